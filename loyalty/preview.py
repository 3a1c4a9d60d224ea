"""What-if reads for the program builder: a customer's last twelve months replayed through
a program's current rules and tiers, without writing anything. Pure over the purchases,
so a test can check it by hand; the page and the API call `customer_year_preview`.

The replay follows the earning services: the per-money rule or the program's rate, the
tier's multiplier, every multiplier rule in priority order, caps per day and month, the
floor at whole points; the tier rises as soon as the points (or the spend) earned in the
qualification window reach the next threshold, as `upgrade_if_qualified` does. Events
(forum answers, reviews...) are not replayed: their number does not depend on the rules.
Downgrades wait for the nightly policy and are not replayed either."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.dates import local_midnight
from customers.models import Customer, Purchase

from .models import EarningRule, EntryKind, LedgerEntry, Program, Tier, TierBasis
from .services.earning import purchase_points_explain


@dataclass(frozen=True)
class PurchaseLine:
    day: dt.date
    amount: Decimal
    category: str
    currency: str


@dataclass
class YearPreview:
    points: int = 0
    tier: Tier | None = None
    purchases: int = 0
    skipped_currency: int = 0
    by_month: dict[dt.date, int] = field(default_factory=dict)
    upgrades: list[tuple[dt.date, str]] = field(default_factory=list)


def replay(
    *,
    program: Program,
    rules: list[EarningRule],
    tiers: list[Tier],
    segment_id: int | None,
    purchases: list[PurchaseLine],
) -> YearPreview:
    """Points and tier that these purchases earn under these rules, oldest first."""
    tiers = sorted(tiers, key=lambda t: t.threshold)
    rules = sorted((r for r in rules if r.is_active), key=lambda r: r.priority)
    tier = next((t for t in tiers if t.threshold == 0), None)
    result = YearPreview(tier=tier)
    earned: list[tuple[dt.date, Decimal]] = []  # (day, points or spend) for the window
    per_day: dict[tuple[int, dt.date], int] = defaultdict(int)
    per_month: dict[tuple[int, dt.date], int] = defaultdict(int)
    for line in sorted(purchases, key=lambda p: p.day):
        if line.currency != program.currency:
            result.skipped_currency += 1
            continue
        result.purchases += 1
        points, rule, _ = purchase_points_explain(
            program=program,
            rules=rules,
            tier=tier,
            segment_id=segment_id,
            category=line.category,
            amount=line.amount,
            day=line.day,
        )
        if rule is not None:
            month = line.day.replace(day=1)
            if rule.cap_per_day:
                points = min(points, max(rule.cap_per_day - per_day[rule.pk, line.day], 0))
            if rule.cap_per_month:
                points = min(points, max(rule.cap_per_month - per_month[rule.pk, month], 0))
            per_day[rule.pk, line.day] += points
            per_month[rule.pk, month] += points
        points = max(points, 0)
        result.points += points
        month = line.day.replace(day=1)
        result.by_month[month] = result.by_month.get(month, 0) + points
        earned.append(
            (line.day, line.amount if program.tier_basis == TierBasis.SPEND else Decimal(points))
        )
        window_start = line.day - dt.timedelta(days=program.qualification_days - 1)
        metric = sum((v for d, v in earned if d >= window_start), Decimal(0))
        target = next((t for t in reversed(tiers) if metric >= t.threshold), None)
        if target is not None and (tier is None or target.threshold > tier.threshold):
            tier = target
            result.upgrades.append((line.day, target.name))
    result.tier = tier
    return result


def customer_year_preview(*, program: Program, customer: Customer) -> dict:
    """The replay of the customer's last 365 days of purchases under the program's
    current rules, beside what the ledger shows they actually earned from purchases."""
    today = timezone.localdate()
    start = today - dt.timedelta(days=364)
    rows = Purchase.objects.filter(
        customer=customer, occurred_at__gte=local_midnight(start)
    ).values_list("occurred_at", "amount", "category", "currency")
    lines = [
        PurchaseLine(timezone.localtime(at).date(), amount, category or "", currency)
        for at, amount, category, currency in rows
    ]
    result = replay(
        program=program,
        rules=list(program.rules.all()),
        tiers=list(program.tiers.all()),
        segment_id=customer.segment_id,
        purchases=lines,
    )
    actual = LedgerEntry.objects.filter(
        membership__program=program,
        membership__customer=customer,
        kind=EntryKind.EARN,
        purchase__isnull=False,
        effective_on__gte=start,
    ).aggregate(points=Coalesce(Sum("points"), 0))["points"]
    return {
        "customer": customer,
        "program": program,
        "start": start,
        "end": today,
        "result": result,
        "actual_points": actual,
        "months": sorted(result.by_month.items()),
    }
