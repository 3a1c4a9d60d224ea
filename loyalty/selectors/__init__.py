"""Loyalty reads: who may see which memberships, the 360 panel, the program page, the portal."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import (
    Count,
    DecimalField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404
from django.utils import timezone

from customers.dates import add_months
from customers.formatting import number, unit_for
from customers.models import Customer, Purchase, User
from customers.selectors import customer_is_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

from ..models import (
    EntryKind,
    LedgerEntry,
    LoyaltyRun,
    Membership,
    Program,
    Redemption,
    RedemptionStatus,
    Reward,
    Tier,
    TierBasis,
)
from .access import customers_in_reach
from .builder import config_changes
from .ledger import LedgerTotals, ledger_drift
from .offers import (
    customer_offers,
    offer_audience,
    offer_get,
    offer_grants_visible_to,
    offer_reach_count,
    offer_redemptions_visible_to,
    offer_stats,
    offers_for_customer,
    program_offers,
    with_retention,
)
from .recommendations import recommendations_for_customer

__all__ = [
    "LedgerTotals",
    "Qualifying",
    "bar_chart",
    "config_changes",
    "customer_loyalty_panel",
    "customer_offers",
    "customers_in_reach",
    "ledger_drift",
    "ledger_visible_to",
    "loyalty_export",
    "membership_get",
    "memberships_qualifying",
    "memberships_visible_to",
    "movement_label",
    "offer_audience",
    "offer_get",
    "offer_grants_visible_to",
    "offer_reach_count",
    "offer_redemptions_visible_to",
    "offer_stats",
    "offers_for_customer",
    "portal_loyalty",
    "portal_membership",
    "portal_movements",
    "portal_program",
    "portal_redemption",
    "portal_reward",
    "program_dashboard",
    "program_get",
    "program_list",
    "program_offers",
    "recommendations_for_customer",
    "redemptions_visible_to",
    "rewards_for_membership",
    "tier_progress",
    "with_retention",
]


def memberships_visible_to(actor: User) -> QuerySet[Membership]:
    """Staff: memberships of the customers they see; a customer: their own."""
    return Membership.objects.filter(customer__in=customers_in_reach(actor)).select_related(
        "program", "tier", "customer"
    )


def membership_get(*, actor: User, pk: Any) -> Membership:
    try:
        return memberships_visible_to(actor).get(pk=pk)
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such membership.") from exc


def ledger_visible_to(actor: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(
        membership__customer__in=customers_in_reach(actor)
    ).select_related("membership__program", "actor")


def redemptions_visible_to(actor: User) -> QuerySet[Redemption]:
    return Redemption.objects.filter(
        membership__customer__in=customers_in_reach(actor)
    ).select_related("reward", "membership__program", "membership__customer")


def program_list() -> QuerySet[Program]:
    return Program.objects.order_by("name")


def program_get(*, actor: User, pk: Any) -> Program:
    if not actor.is_authenticated:
        raise Http404("No such program.")
    try:
        return Program.objects.get(pk=pk)
    except (Program.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such program.") from exc


def customer_loyalty_panel(*, actor: User, customer: Customer) -> dict | None:
    """What the customer 360 page shows: memberships with tier, balance, the next tier,
    the latest movements, and the offers the customer may use or has used. Four queries
    whatever the number of programs and offers."""
    if not customer_is_visible_to(actor=actor, customer=customer):
        return None
    memberships = list(
        Membership.objects.filter(customer=customer)
        .select_related("program", "tier")
        .order_by("program__name")
    )
    # The offers it may use and has used: one query, the tiers taken from the rows above.
    offers = customer_offers(
        customer=customer, tier_ids=[m.tier_id for m in memberships if m.tier_id]
    )
    if not memberships:
        return {
            "customer": customer,
            "memberships": [],
            "recent": [],
            "can_adjust": actor.is_staff_member,
            "offers": offers,
        }
    tiers: dict[int, list[Tier]] = {}
    for tier in Tier.objects.filter(program__in=[m.program_id for m in memberships]).order_by(
        "threshold"
    ):
        tiers.setdefault(tier.program_id, []).append(tier)
    rows = []
    for m in memberships:
        above = [
            t
            for t in tiers.get(m.program_id, [])
            if m.tier is None or t.threshold > m.tier.threshold
        ]
        rows.append(
            {
                "membership": m,
                "program": m.program,
                "tier": m.tier,
                "balance": m.balance,
                "pending": m.pending_points,
                "next_tier": above[0] if above else None,
            }
        )
    # By membership id, not through a join on the customer: one backward scan of the
    # (membership, created_at) index, whatever the planner thinks of a 10M-row ledger;
    # each entry's membership (and program) is the one already read above.
    by_id = {m.pk: m for m in memberships}
    recent = list(
        LedgerEntry.objects.filter(membership_id__in=list(by_id))
        .select_related("actor")
        .order_by("-created_at", "-id")[:10]
    )
    for entry in recent:
        entry.membership = by_id[entry.membership_id]
    return {
        "customer": customer,
        "memberships": rows,
        "recent": recent,
        "can_adjust": actor.is_staff_member,
        "offers": offers,
        # One key per rendered form: a double-submitted adjustment is applied once.
        "form_key": uuid.uuid4().hex,
    }


def program_dashboard(*, program: Program, months: int = 12) -> dict:
    """Members by tier, points liability, earned and burnt points per month, and the
    rules, tiers, rewards and offers the program page lists."""
    by_tier = {
        row["tier"]: row["n"]
        for row in Membership.objects.filter(program=program).values("tier").annotate(n=Count("id"))
    }
    tiers = list(program.tiers.order_by("threshold"))
    members = [{"label": "No tier", "value": by_tier.get(None, 0)}] if None in by_tier else []
    members += [{"label": t.name, "value": by_tier.get(t.pk, 0)} for t in tiers]
    totals = Membership.objects.filter(program=program).aggregate(
        balance=Coalesce(Sum("balance"), 0),
        pending=Coalesce(Sum("pending_points"), 0),
        n=Count("id"),
    )
    today = timezone.localdate()
    this_month = today.replace(day=1)
    start = add_months(this_month, -(months - 1))
    flows = (
        LedgerEntry.objects.filter(membership__program=program, effective_on__gte=start)
        .annotate(month=TruncMonth("effective_on"))
        .values("month", "kind")
        .annotate(total=Sum("points"))
    )
    labels = [add_months(this_month, -back) for back in range(months - 1, -1, -1)]
    earn = dict.fromkeys(labels, 0)
    burn = dict.fromkeys(labels, 0)
    for row in flows:
        month = row["month"]
        month = month.date() if isinstance(month, dt.datetime) else month
        if month not in earn:
            continue
        if row["kind"] == EntryKind.EARN or (row["kind"] != EntryKind.EXPIRE and row["total"] > 0):
            earn[month] += max(row["total"], 0)
        if row["kind"] in (EntryKind.REDEEM, EntryKind.EXPIRE):
            burn[month] += -row["total"]
    return {
        "program": program,
        "members_by_tier": members,
        "member_count": totals["n"],
        "liability": totals["balance"],
        "pending": totals["pending"],
        "earn_by_month": [{"label": f"{m:%b %y}", "value": earn[m]} for m in labels],
        "burn_by_month": [{"label": f"{m:%b %y}", "value": burn[m]} for m in labels],
        "runs": list(_recent_runs()),
        "rules": program.rules.select_related("tier", "segment").order_by("priority"),
        "tiers": tiers,
        "rewards": program.rewards.order_by("cost"),
        "offers": program_offers(program=program),
    }


def _recent_runs() -> QuerySet[LoyaltyRun]:
    return LoyaltyRun.objects.order_by("-started_at")[:10]


def bar_chart(data: list[dict], *, width: int = 560, height: int = 180) -> dict:
    """Geometry for a server-rendered SVG bar chart (the template draws it)."""
    top = max([d["value"] for d in data] + [1])
    n = max(len(data), 1)
    slot = width / n
    bar = slot * 0.7
    plot = height - 30
    bars = []
    for i, d in enumerate(data):
        h = round(plot * d["value"] / top, 1)
        bars.append(
            {
                "label": d["label"],
                "value": d["value"],
                "x": round(i * slot + (slot - bar) / 2, 1),
                "y": round(plot - h + 14, 1),
                "w": round(bar, 1),
                "h": h,
                "cx": round(i * slot + slot / 2, 1),
                "ty": round(plot - h + 11, 1),
            }
        )
    return {"bars": bars, "width": width, "height": height, "base": plot + 14}


# ---------------------------------------------------------------- portal


def rewards_open_to(*, membership: Membership) -> QuerySet[Reward]:
    """The program's rewards on offer today (active, within their dates)."""
    today = timezone.localdate()
    return (
        Reward.objects.filter(program=membership.program, is_active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .prefetch_related("tiers")
    )


def reward_standing(*, membership: Membership, rewards: Iterable[Reward]) -> list[dict]:
    """For each reward (a page of rewards_open_to), whether this member can redeem it and,
    if not, what stops them."""
    used = dict(
        Redemption.objects.filter(membership=membership)
        .exclude(status=RedemptionStatus.CANCELLED)
        .values_list("reward")
        .annotate(n=Count("id"))
    )
    rows = []
    for reward in rewards:
        tiers = list(reward.tiers.all())
        reason = ""
        if tiers and membership.tier not in tiers:
            reason = "For " + ", ".join(t.name for t in tiers) + " members"
        elif reward.stock == 0:
            reason = "Out of stock"
        elif (
            reward.per_customer_limit is not None
            and used.get(reward.pk, 0) >= reward.per_customer_limit
        ):
            reason = "Limit reached"
        elif membership.balance < reward.cost:
            missing = reward.cost - membership.balance
            name = unit_for(membership.program.points_name, missing)
            reason = f"{number(missing)} more {name} needed"
        rows.append({"reward": reward, "can_redeem": not reason, "reason": reason})
    return rows


def rewards_for_membership(*, membership: Membership) -> list[dict]:
    """The catalogue as this member sees it: what they can afford and what stops them."""
    return reward_standing(membership=membership, rewards=rewards_open_to(membership=membership))


class Qualifying(TypedDict):
    metric: Decimal


def memberships_qualifying(
    *, program: Program, day: dt.date
) -> QuerySet[WithAnnotations[Membership, Qualifying]]:
    """Memberships of a program annotated with what their tier is computed on: points
    earned, or money spent in the program's currency, over the qualification window."""
    start = day - dt.timedelta(days=program.qualification_days)
    sub: QuerySet[Any, Any]  # spend (purchases) or points (ledger entries)
    if program.tier_basis == TierBasis.SPEND:
        sub = (
            Purchase.objects.filter(
                customer=OuterRef("customer_id"),
                currency=program.currency,
                occurred_at__date__gt=start,
                occurred_at__date__lte=day,
            )
            .order_by()
            .values("customer")
            .annotate(s=Sum("amount"))
            .values("s")
        )
    else:
        sub = (
            LedgerEntry.objects.filter(
                membership=OuterRef("pk"), effective_on__gt=start, effective_on__lte=day
            )
            .filter(Q(kind=EntryKind.EARN) | Q(kind=EntryKind.REVERSE, redemption__isnull=True))
            .order_by()
            .values("membership")
            .annotate(s=Sum("points"))
            .values("s")
        )
    dec: DecimalField[Any, Decimal] = DecimalField(max_digits=16, decimal_places=2)
    return Membership.objects.filter(program=program).annotate(
        metric=Coalesce(Subquery(sub, output_field=dec), Value(Decimal(0)), output_field=dec)
    )


def tier_progress(*, membership: Membership, tiers: list[Tier], metric: Decimal) -> dict:
    """Where a member stands: their tier, the next one, what is still missing and the share
    of the way from the current threshold to the next (0-100)."""
    current = membership.tier
    above = [t for t in tiers if current is None or t.threshold > current.threshold]
    nxt = above[0] if above else None
    floor = current.threshold if current is not None else Decimal(0)
    if nxt is None:
        return {"next": None, "missing": Decimal(0), "percent": 100, "metric": metric}
    span = nxt.threshold - floor
    done = max(Decimal(0), min(metric - floor, span))
    percent = int(done * 100 / span) if span > 0 else 100
    return {
        "next": nxt,
        "missing": max(Decimal(0), nxt.threshold - metric),
        "percent": percent,
        "metric": metric,
    }


def movement_label(entry: LedgerEntry) -> str:
    """A movement in the customer's words: the purchase or the occasion, not the earning
    arithmetic staff read in `reason` (rates, rule steps, who backfilled)."""
    if entry.kind == EntryKind.EARN and entry.purchase_id is not None:
        purchase = entry.purchase
        return f"Purchase: {purchase.product or purchase.reference}" if purchase else "Purchase"
    if entry.kind == EntryKind.EARN and entry.event_code:
        return entry.event_code.replace("_", " ").capitalize()
    if entry.kind == EntryKind.EXPIRE:
        return "Points expired"
    return entry.reason


def portal_movements(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """A member's movements, newest first, with what `movement_label` reads."""
    return entries.select_related("purchase").order_by("-created_at", "-id")


def portal_loyalty(*, customer: Customer) -> dict:
    """The customer's loyalty page: each membership with tier, progress, balance, what
    expires soon, the rewards as they see them, and their latest movements; the offers
    meant for them, their redemptions, and the programs they could still join. A handful
    of queries per membership (a customer has one or two), none per movement."""
    today = timezone.localdate()
    memberships = list(
        Membership.objects.filter(customer=customer)
        .select_related("program", "tier")
        .order_by("program__name")
    )
    tiers: dict[int, list[Tier]] = {}
    for tier in Tier.objects.filter(program__in=[m.program_id for m in memberships]).order_by(
        "threshold"
    ):
        tiers.setdefault(tier.program_id, []).append(tier)
    soon = today + dt.timedelta(days=60)
    expiring = dict(
        LedgerEntry.objects.filter(
            membership__in=memberships,
            remaining__gt=0,
            pending_until__isnull=True,
            expires_on__isnull=False,
            expires_on__lte=soon,
        )
        .order_by()
        .values_list("membership")
        .annotate(n=Sum("remaining"))
    )
    rows = []
    for m in memberships:
        metric = (
            memberships_qualifying(program=m.program, day=today)
            .filter(pk=m.pk)
            .values_list("metric", flat=True)
            .first()
        ) or Decimal(0)
        rows.append(
            {
                "membership": m,
                "program": m.program,
                "progress": tier_progress(
                    membership=m, tiers=tiers.get(m.program_id, []), metric=metric
                ),
                "spend_basis": m.program.tier_basis == TierBasis.SPEND,
                "expiring_soon": expiring.get(m.pk, 0),
                "rewards": rewards_for_membership(membership=m),
                "movements": [
                    {"entry": e, "label": movement_label(e)}
                    for e in portal_movements(LedgerEntry.objects.filter(membership=m))[:8]
                ],
            }
        )
    joined = [m.program_id for m in memberships]
    joinable = [
        p
        for p in Program.objects.exclude(pk__in=joined)
        .filter(starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .prefetch_related("eligible_segments")
        if not p.eligible_segments.all()
        or customer.segment_id in {s.pk for s in p.eligible_segments.all()}
    ]
    return {
        "memberships": rows,
        "offers": list(offers_for_customer(customer=customer, on=today)),
        "redemptions": list(
            Redemption.objects.filter(membership__customer=customer)
            .select_related("reward", "membership__program")
            .order_by("-created_at", "-id")[:10]
        ),
        "joinable": joinable,
    }


def portal_membership(*, customer: Customer, pk: Any) -> Membership:
    """One of the customer's memberships; anyone else's is a 404."""
    try:
        return Membership.objects.select_related("program", "tier").get(pk=pk, customer=customer)
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such membership.") from exc


def portal_reward(*, customer: Customer, pk: Any) -> tuple[Reward, Membership]:
    """A reward of a program the customer belongs to, with their membership of it; a reward
    of any other program is a 404 (it is not theirs to see)."""
    try:
        reward = Reward.objects.select_related("program").get(
            pk=pk, program__memberships__customer=customer
        )
        membership = Membership.objects.select_related("program", "tier").get(
            customer=customer, program_id=reward.program_id
        )
    except (Reward.DoesNotExist, Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such reward.") from exc
    return reward, membership


def portal_redemption(*, customer: Customer, pk: Any) -> Redemption:
    try:
        return Redemption.objects.select_related("reward", "membership__program").get(
            pk=pk, membership__customer=customer
        )
    except (Redemption.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such redemption.") from exc


def portal_program(*, customer: Customer, pk: Any) -> Program:
    """A program the customer may see (to join it): any program; a bad id is a 404."""
    try:
        return Program.objects.get(pk=pk)
    except (Program.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such program.") from exc


def loyalty_export(*, customer: Customer) -> list[dict[str, Any]]:
    """The customer's memberships with every ledger movement and redemption, for their
    data export (the rule that earned points and the staff member who adjusted them are
    internal and left out)."""
    memberships = list(
        Membership.objects.filter(customer=customer).select_related("program", "tier")
    )
    entries: dict[int, list[dict[str, Any]]] = {}
    for entry in portal_movements(LedgerEntry.objects.filter(membership__in=memberships)):
        entries.setdefault(entry.membership_id, []).append(
            {
                "date": entry.effective_on,
                "kind": entry.kind,
                "points": entry.points,
                "description": movement_label(entry),
                "expires_on": entry.expires_on,
            }
        )
    redemptions: dict[int, list[dict[str, Any]]] = {}
    for r in Redemption.objects.filter(membership__in=memberships).select_related("reward"):
        redemptions.setdefault(r.membership_id, []).append(
            {
                "created_at": r.created_at,
                "reward": r.reward.name,
                "code": r.code,
                "points": r.points,
                "status": r.status,
            }
        )
    return [
        {
            "program": m.program.name,
            "tier": m.tier.name if m.tier else None,
            "joined_at": m.joined_at,
            "balance": m.balance,
            "pending_points": m.pending_points,
            "movements": entries.get(m.pk, []),
            "redemptions": redemptions.get(m.pk, []),
        }
        for m in memberships
    ]
