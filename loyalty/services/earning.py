"""How many points a purchase or an event earns, and crediting them to one locked membership;
plus the set-based backfill of a program's past purchases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.errors import NotAllowed, ValidationFailed
from customers.models import Customer, Purchase, User

from ..models import EarningRule, EntryKind, LedgerEntry, Membership, Program, RuleKind, Tier
from ._common import check_staff_for, clean_key, local_today
from .ledger import credit, existing_entry, lock_memberships, lot_date_sql
from .tiers import upgrade_if_qualified


def points_multiplied(
    value: Decimal,
    *,
    rules: Iterable[EarningRule],
    tier: Tier | None,
    segment_id: int | None,
    category: str | None,
    day: dt.date,
) -> tuple[Decimal, list[str]]:
    """`value` times the member's tier multiplier, then times every multiplier rule that
    applies on `day` to this tier and segment, in the rules' (priority) order; with the steps.

    `category` is the purchase's, stripped and lower-cased. An event has no category (None):
    a multiplier rule limited to a category never applies to it; one without applies."""
    steps: list[str] = []
    if tier is not None and tier.multiplier != 1:
        value *= tier.multiplier
        steps.append(f"Tier {tier.name}: x {tier.multiplier}")
    for rule in rules:
        # A multiplier rule always has its multiplier (constraint rule_multiplier_set).
        if rule.kind != RuleKind.MULTIPLIER or rule.multiplier is None or not rule.applies_on(day):
            continue
        if rule.tier_id and (tier is None or rule.tier_id != tier.pk):
            continue
        if rule.segment_id and rule.segment_id != segment_id:
            continue
        if rule.category and (category is None or rule.category.strip().lower() != category):
            continue
        value *= rule.multiplier
        steps.append(f"#{rule.priority} {rule.name}: x {rule.multiplier}")
    return value, steps


def purchase_points_explain(
    *,
    program: Program,
    rules: list[EarningRule],
    tier: Tier | None,
    segment_id: int | None,
    category: str,
    amount: Decimal,
    day: dt.date,
) -> tuple[int, EarningRule | None, list[str]]:
    """Points for one purchase and the steps that produced them, in rule order."""
    cat = (category or "").strip().lower()
    steps: list[str] = []
    money_rules = [r for r in rules if r.kind == RuleKind.PER_MONEY]
    base_rule = None
    if money_rules:
        matching = [r for r in money_rules if r.applies_on(day) and cat not in r.excluded]
        if not matching:
            return 0, None, [f"No per-money rule earns on category {category or '(none)'}."]
        base_rule = matching[0]
        rate = base_rule.points_per_unit or program.points_per_unit
        steps.append(f"#{base_rule.priority} {base_rule.name}: {amount} x {rate}")
    else:
        rate = program.points_per_unit
        steps.append(f"Program rate: {amount} x {rate}")
    value, multiplied = points_multiplied(
        Decimal(amount) * rate, rules=rules, tier=tier, segment_id=segment_id, category=cat, day=day
    )
    steps += multiplied
    points = int(value.to_integral_value(rounding=ROUND_FLOOR))
    steps.append(f"= {points}")
    return points, base_rule, steps


def _cap(
    membership: Membership, rule: EarningRule | None, points: int, day: dt.date
) -> tuple[int, str]:
    if rule is None or not (rule.cap_per_day or rule.cap_per_month):
        return points, ""
    earned = LedgerEntry.objects.filter(membership=membership, rule=rule, kind=EntryKind.EARN)
    note = ""
    if rule.cap_per_day:
        today = earned.filter(effective_on=day).aggregate(s=Coalesce(Sum("points"), 0))["s"]
        if points > rule.cap_per_day - today:
            points, note = max(0, rule.cap_per_day - today), f"capped at {rule.cap_per_day} a day"
    if rule.cap_per_month:
        month = earned.filter(effective_on__year=day.year, effective_on__month=day.month).aggregate(
            s=Coalesce(Sum("points"), 0)
        )["s"]
        if points > rule.cap_per_month - month:
            points, note = (
                max(0, rule.cap_per_month - month),
                f"capped at {rule.cap_per_month} a month",
            )
    return points, note


def earn_purchase(membership: Membership, purchase: Purchase, day: dt.date) -> LedgerEntry | None:
    program = membership.program
    key = f"purchase:{purchase.pk}"
    if purchase.currency != program.currency or existing_entry(membership, key):
        return None
    rules = list(program.rules.filter(is_active=True).order_by("priority"))
    points, rule, steps = purchase_points_explain(
        program=program,
        rules=rules,
        tier=membership.tier,
        segment_id=membership.customer.segment_id,
        category=purchase.category,
        amount=purchase.amount,
        day=day,
    )
    points, note = _cap(membership, rule, points, day)
    if note:
        steps.append(note)
    if points <= 0:
        return None
    return credit(
        membership=membership,
        points=points,
        kind=EntryKind.EARN,
        key=key,
        earned_on=day,
        reason=f"Purchase {purchase.reference}: " + "; ".join(steps),
        purchase=purchase,
        rule=rule,
    )


def earn_event(
    *, membership: Membership, event_code: str, key: str, day: dt.date, actor: User | None = None
) -> LedgerEntry | None:
    """The first active rule for `event_code` credits its fixed points, multiplied as
    points_multiplied says for an event. The caller holds the membership's lock."""
    program = membership.program
    full_key = f"event:{event_code}:{key}"
    if existing_entry(membership, full_key):
        return None
    rules = list(program.rules.filter(is_active=True).order_by("priority"))
    rule = next(
        (
            r
            for r in rules
            if r.kind == RuleKind.EVENT and r.event_code == event_code and r.applies_on(day)
        ),
        None,
    )
    # An event rule always has its points (constraint rule_event_has_code_and_points).
    if rule is None or rule.points is None:
        return None
    value, multiplied = points_multiplied(
        Decimal(rule.points),
        rules=rules,
        tier=membership.tier,
        segment_id=membership.customer.segment_id,
        category=None,
        day=day,
    )
    steps = [f"#{rule.priority} {rule.name}: {rule.points}", *multiplied]
    points, note = _cap(membership, rule, int(value.to_integral_value(rounding=ROUND_FLOOR)), day)
    if note:
        steps.append(note)
    if points <= 0:
        return None
    return credit(
        membership=membership,
        points=points,
        kind=EntryKind.EARN,
        key=full_key,
        earned_on=day,
        reason=f"Event {event_code}: " + "; ".join(steps),
        event_code=event_code,
        rule=rule,
        actor=actor,
    )


@transaction.atomic
def points_earn_for_event(
    *,
    customer: Customer,
    event_code: str,
    idempotency_key: str,
    actor: User | None = None,
    on: dt.date | None = None,
) -> list[LedgerEntry]:
    """Fixed points for an event another app fires by code (an open list). Earns once per
    (membership, event, key); a customer in no program or a code no rule knows earns nothing."""
    code = (event_code or "").strip()
    if not code or not code.replace("_", "").replace("-", "").isalnum() or len(code) > 60:
        raise ValidationFailed(
            "The event code must be a short slug such as 'review'.", field="event_code"
        )
    key = clean_key(idempotency_key)
    if actor is not None:
        check_staff_for(actor, customer)
    day = on or local_today()
    entries = []
    memberships = lock_memberships(
        Membership.objects.filter(customer=customer).values_list("pk", flat=True)
    )
    for membership in memberships.values():
        membership.customer = customer
        if membership.program.is_active_on(day):
            entry = earn_event(
                membership=membership, event_code=code, key=key, day=day, actor=actor
            )
            if entry:
                entries.append(entry)
                upgrade_if_qualified(membership, day)
    return entries


def points_backfill(*, program: Program, actor: User) -> int:
    """Earn for every past purchase in the program's currency and dates, set-based (a
    backfill of history, e.g. when a program starts on an existing book). Customers who
    bought join the program; each purchase earns once (key purchase:<id>, ON CONFLICT DO
    NOTHING), at the program rate, skipping the first per-money rule's excluded categories.
    History earns without tier multipliers, bonus multipliers or caps (these apply to
    purchases recorded from now on). Then balances are recomputed from the ledger."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can backfill a program.")
    m = Membership._meta.db_table
    e = LedgerEntry._meta.db_table
    p = Purchase._meta.db_table
    c = Customer._meta.db_table
    pg = connection.vendor == "postgresql"
    day_sql = "(p.occurred_at AT TIME ZONE %s)::date" if pg else "date(p.occurred_at)"
    tz = [timezone.get_current_timezone_name()] if pg else []
    money_rule = (
        program.rules.filter(is_active=True, kind=RuleKind.PER_MONEY).order_by("priority").first()
    )
    rate = (
        money_rule.points_per_unit if money_rule and money_rule.points_per_unit else None
    ) or program.points_per_unit
    excluded = sorted(money_rule.excluded) if money_rule else []
    excluded_sql = (
        " AND lower(p.category) NOT IN (" + ", ".join(["%s"] * len(excluded)) + ")"
        if excluded
        else ""
    )
    segments = list(program.eligible_segments.values_list("pk", flat=True))
    segment_sql = (
        (" AND cu.segment_id IN (" + ", ".join(["%s"] * len(segments)) + ")") if segments else ""
    )
    window = f"p.currency = %s AND {day_sql} >= %s" + (
        f" AND {day_sql} <= %s" if program.ends_on else ""
    )
    window_params: list[str | dt.date] = [program.currency, *tz, program.starts_on]
    if program.ends_on:
        window_params += [*tz, program.ends_on]
    pending, expires = lot_date_sql(program, day_sql)
    today = local_today()
    # New members start in the entry tier, as when they join one by one.
    base = program.tiers.filter(threshold=0).first()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {m} (program_id, customer_id, tier_id, tier_since, balance, pending_points, "  # noqa: S608
            f"joined_at, join_source) "
            f"SELECT %s, cu.id, %s, %s, 0, 0, %s, 'purchase' FROM {c} cu WHERE EXISTS (SELECT 1 FROM {p} p "
            f"WHERE p.customer_id = cu.id AND {window}){segment_sql} "
            f"ON CONFLICT (customer_id, program_id) DO NOTHING",
            [
                program.pk,
                base.pk if base else None,
                today if base else None,
                now,
                *window_params,
                *segments,
            ],
        )
        if pg:
            cur.execute(
                f"SELECT count(*) FROM (SELECT id FROM {m} WHERE program_id = %s ORDER BY id FOR UPDATE) l",  # noqa: S608
                [program.pk],
            )
        points_sql = "CAST(floor(p.amount * %s) AS bigint)"
        pending_params: list[str | dt.date] = [*tz, today, *tz] if program.pending_days else []
        expires_params = tz if expires != "NULL" else []
        cur.execute(
            f"INSERT INTO {e} (membership_id, kind, points, remaining, idempotency_key, created_at, "  # noqa: S608
            f"effective_on, pending_until, expires_on, purchase_id, event_code, redemption_id, "
            f"reversed_entry_id, rule_id, actor_id, reason) "
            f"SELECT mm.id, 'earn', {points_sql}, {points_sql}, 'purchase:' || CAST(p.id AS varchar(20)), %s, "
            f"{day_sql}, {pending}, {expires}, p.id, '', NULL, NULL, %s, %s, %s "
            f"FROM {p} p JOIN {m} mm ON mm.customer_id = p.customer_id AND mm.program_id = %s "
            f"WHERE {window}{excluded_sql} AND {points_sql} > 0 "
            f"ON CONFLICT (membership_id, idempotency_key) DO NOTHING",
            [
                rate,
                rate,
                now,
                *tz,
                *pending_params,
                *expires_params,
                # No rule or actor foreign key per row: on PostgreSQL each one is a deferred
                # check at commit, and ten million of them double the commit time.
                None,
                None,
                f"Backfilled purchase ({rate} per unit) by {actor}.",
                program.pk,
                *window_params,
                *excluded,
                rate,
            ],
        )
        earned = cur.rowcount
        cur.execute(
            f"UPDATE {m} SET balance = COALESCE(s.released, 0), pending_points = COALESCE(s.pending, 0) "  # noqa: S608
            f"FROM (SELECT membership_id, SUM(CASE WHEN pending_until IS NULL THEN points ELSE 0 END) AS released, "
            f"SUM(CASE WHEN pending_until IS NULL THEN 0 ELSE points END) AS pending FROM {e} e "
            f"JOIN {m} mm ON mm.id = e.membership_id WHERE mm.program_id = %s GROUP BY membership_id) s "
            f"WHERE {m}.id = s.membership_id",
            [program.pk],
        )
    return earned
