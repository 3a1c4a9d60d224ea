"""Loyalty writes: every points movement goes through here, one transaction per use case.

Rows that move points are locked with select_for_update (memberships in pk order)
before anything is read; idempotency keys are unique in the database, so a retried
purchase, event, task or request moves points once.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import secrets
import uuid
import zlib
from collections.abc import Callable, Iterable
from decimal import ROUND_FLOOR, Decimal
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import Customer, Purchase, User
from customers.selectors import customers_visible_to

from .errors import InsufficientPoints, OutOfStock
from .models import (
    DowngradePolicy,
    EarningRule,
    EntryKind,
    ExpiryPolicy,
    JoinSource,
    LedgerEntry,
    LoyaltyRun,
    Membership,
    Offer,
    OfferRedemption,
    Program,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardCode,
    RuleKind,
    RunStatus,
    Tier,
    TierBasis,
    TierChange,
)
from .selectors import customers_in_reach, offers_for_customer

MAX_ADJUSTMENT = 100_000_000


# ---------------------------------------------------------------- helpers


def _today() -> dt.date:
    return timezone.localdate()


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def lot_dates(program: Program, earned_on: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """(pending_until, expires_on) for points earned on `earned_on`. Points expire on the
    morning of `expires_on`: the nightly run of that date takes them."""
    pending_until = (
        earned_on + dt.timedelta(days=program.pending_days) if program.pending_days else None
    )
    if program.expiry_policy == ExpiryPolicy.MONTHS_AFTER_EARNING:
        expires_on = _add_months(earned_on, program.expiry_months or 0)
    elif program.expiry_policy == ExpiryPolicy.END_OF_YEAR:
        expires_on = dt.date(earned_on.year + 1, 1, 1)
    else:
        expires_on = None
    return pending_until, expires_on


def _check_staff_for(actor: User, customer: Customer) -> None:
    if not (actor.is_authenticated and actor.is_staff_member) or not (
        customers_visible_to(actor).filter(pk=customer.pk).exists()
    ):
        raise NotAllowed("You can only change the points of customers in your book.")


def _check_member_or_staff(actor: User, customer: Customer) -> None:
    # The same reach the selectors give: staff their book, a customer themselves.
    if not customers_in_reach(actor).filter(pk=customer.pk).exists():
        raise NotAllowed("You can only use your own membership.")


def _lock(membership: Membership) -> Membership:
    return Membership.objects.select_related("program", "tier", "customer").select_for_update(
        of=("self",)
    ).get(pk=membership.pk)


def _lock_many(ids: Iterable[int]) -> dict[int, Membership]:
    rows = (
        Membership.objects.select_related("program", "tier")
        .select_for_update(of=("self",))
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )
    return {m.pk: m for m in rows}


def _credit(
    *,
    membership: Membership,
    points: int,
    kind: str,
    key: str,
    earned_on: dt.date,
    reason: str = "",
    pending: bool = True,
    **links,
) -> LedgerEntry | None:
    """Add a lot. Returns None when the key was already used (the points exist already).
    The caller holds the membership's lock."""
    pending_until, expires_on = lot_dates(membership.program, earned_on)
    if not pending or (pending_until is not None and pending_until <= _today()):
        pending_until = None
    entry = LedgerEntry(
        membership=membership,
        kind=kind,
        points=points,
        remaining=points,
        idempotency_key=key[:120],
        effective_on=earned_on,
        pending_until=pending_until,
        expires_on=expires_on,
        reason=reason[:500],
        **links,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        if LedgerEntry.objects.filter(membership=membership, idempotency_key=entry.idempotency_key).exists():
            return None
        raise
    if pending_until is None:
        Membership.objects.filter(pk=membership.pk).update(balance=F("balance") + points)
        membership.balance += points
    else:
        Membership.objects.filter(pk=membership.pk).update(pending_points=F("pending_points") + points)
        membership.pending_points += points
    return entry


def _consume(membership: Membership, points: int) -> None:
    """Take `points` from the oldest available lots. The caller holds the lock."""
    lots = list(
        LedgerEntry.objects.filter(
            membership=membership, remaining__gt=0, pending_until__isnull=True
        )
        .order_by("effective_on", "id")
        .only("id", "remaining")
    )
    left = points
    touched = []
    for lot in lots:
        if left == 0:
            break
        take = min(left, lot.remaining)
        lot.remaining -= take
        left -= take
        touched.append(lot)
    if left:
        # The lots and the balance disagree: refuse rather than spend points nobody has.
        raise InsufficientPoints("The points ledger does not cover this; run loyalty_audit.")
    LedgerEntry.objects.bulk_update(touched, ["remaining"])


def _debit(
    *, membership: Membership, points: int, kind: str, key: str, reason: str = "", **links
) -> LedgerEntry:
    if membership.balance < points:
        raise InsufficientPoints(
            f"Not enough {membership.program.points_name}: {membership.balance} available, "
            f"{points} needed.",
            field="points",
        )
    _consume(membership, points)
    entry = LedgerEntry(
        membership=membership,
        kind=kind,
        points=-points,
        idempotency_key=key[:120],
        effective_on=_today(),
        reason=reason[:500],
        **links,
    )
    entry.save()
    Membership.objects.filter(pk=membership.pk).update(balance=F("balance") - points)
    membership.balance -= points
    return entry


def _existing(membership: Membership, key: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(membership=membership, idempotency_key=key[:120]).first()


def _clean_key(key: str | None) -> str:
    key = (str(key) if key is not None else "").strip()
    if not key:
        raise ValidationFailed("An idempotency key is required.", field="idempotency_key")
    if len(key) > 100:
        raise ValidationFailed("The idempotency key is at most 100 characters.", field="idempotency_key")
    return key


# ---------------------------------------------------------------- configuration


def config_save(*, actor: User, obj, m2m: dict | None = None):
    """Admins configure programs, tiers, rules, rewards and offers; model clean() refuses
    contradictions with a message."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can configure loyalty programs.")
    try:
        with transaction.atomic():
            obj.full_clean()
            obj.save()
            for name, values in (m2m or {}).items():
                getattr(obj, name).set(values)
            check_program_consistency(obj)
    except ValidationError as exc:
        raise ValidationFailed("; ".join(exc.messages)) from exc
    except IntegrityError as exc:
        raise Conflict(f"This clashes with an existing record ({exc}).") from exc
    return obj


def check_program_consistency(program) -> None:
    """Refuse configurations that contradict themselves across rows."""
    if isinstance(program, Tier | EarningRule | Reward):
        program = program.program
    if not isinstance(program, Program):
        return
    problems = tier_problems((t.name, t.threshold, t.multiplier) for t in program.tiers.all())
    # The rules once for all rewards, not one query per reward.
    rules = list(program.rules.filter(is_active=True))
    for reward in program.rewards.filter(is_active=True).prefetch_related("tiers"):
        problems += [
            f"Reward {reward.name}: {p}"
            for p in reward_problems(
                program=program,
                cost=reward.cost,
                tiers=reward.tiers.all(),
                valid_from=reward.valid_from,
                valid_until=reward.valid_until,
                active_rules=rules,
            )
        ]
    if problems:
        raise ValidationError(problems)


# ---------------------------------------------------------------- joining


def program_accepts(program: Program, customer: Customer) -> bool:
    segment_ids = {s.pk for s in program.eligible_segments.all()}
    return not segment_ids or customer.segment_id in segment_ids


def membership_join(
    *,
    program: Program,
    customer: Customer,
    actor: User | None = None,
    source: str = JoinSource.MANUAL,
    on: dt.date | None = None,
) -> Membership:
    day = on or _today()
    if actor is not None:
        _check_member_or_staff(actor, customer)
    if not program.is_active_on(day):
        raise ValidationFailed(f"{program} is not open on {day:%Y-%m-%d}.", field="program")
    if not program_accepts(program, customer):
        raise ValidationFailed(
            f"{customer}'s segment may not join {program}.", field="customer"
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(program=program, customer=customer, join_source=source)
            base = program.tiers.filter(threshold=0).first()
            if base is not None:
                Membership.objects.filter(pk=membership.pk).update(tier=base, tier_since=day)
                membership.tier, membership.tier_since = base, day
                TierChange.objects.create(
                    membership=membership, to_tier=base, run_date=day, reason="Joined the program."
                )
            _earn_event(membership=membership, event_code="sign_up", key="sign_up", day=day)
    except IntegrityError as exc:
        if Membership.objects.filter(program=program, customer=customer).exists():
            raise Conflict(f"{customer} is already a member of {program}.") from exc
        raise
    return membership


# ---------------------------------------------------------------- earning


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
    value = Decimal(amount) * rate
    if tier is not None and tier.multiplier != 1:
        value *= tier.multiplier
        steps.append(f"Tier {tier.name}: x {tier.multiplier}")
    for rule in rules:
        if rule.kind != RuleKind.MULTIPLIER or not rule.applies_on(day):
            continue
        if rule.tier_id and (tier is None or rule.tier_id != tier.pk):
            continue
        if rule.segment_id and rule.segment_id != segment_id:
            continue
        if rule.category and rule.category.strip().lower() != cat:
            continue
        value *= rule.multiplier
        steps.append(f"#{rule.priority} {rule.name}: x {rule.multiplier}")
    points = int(value.to_integral_value(rounding=ROUND_FLOOR))
    steps.append(f"= {points}")
    return points, base_rule, steps


def _cap(membership: Membership, rule: EarningRule | None, points: int, day: dt.date) -> tuple[int, str]:
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
            points, note = max(0, rule.cap_per_month - month), f"capped at {rule.cap_per_month} a month"
    return points, note


def _earn_purchase(membership: Membership, purchase: Purchase, day: dt.date) -> LedgerEntry | None:
    program = membership.program
    key = f"purchase:{purchase.pk}"
    if purchase.currency != program.currency or _existing(membership, key):
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
    return _credit(
        membership=membership,
        points=points,
        kind=EntryKind.EARN,
        key=key,
        earned_on=day,
        reason=f"Purchase {purchase.reference}: " + "; ".join(steps),
        purchase=purchase,
        rule=rule,
    )


def _earn_event(
    *, membership: Membership, event_code: str, key: str, day: dt.date, actor: User | None = None
) -> LedgerEntry | None:
    program = membership.program
    full_key = f"event:{event_code}:{key}"
    if _existing(membership, full_key):
        return None
    rules = list(program.rules.filter(is_active=True).order_by("priority"))
    rule = next(
        (r for r in rules if r.kind == RuleKind.EVENT and r.event_code == event_code and r.applies_on(day)),
        None,
    )
    if rule is None:
        return None
    value = Decimal(rule.points)
    steps = [f"#{rule.priority} {rule.name}: {rule.points}"]
    tier = membership.tier
    if tier is not None and tier.multiplier != 1:
        value *= tier.multiplier
        steps.append(f"Tier {tier.name}: x {tier.multiplier}")
    for r in rules:
        if r.kind != RuleKind.MULTIPLIER or r.category or not r.applies_on(day):
            continue
        if (r.tier_id and (tier is None or r.tier_id != tier.pk)) or (
            r.segment_id and r.segment_id != membership.customer.segment_id
        ):
            continue
        value *= r.multiplier
        steps.append(f"#{r.priority} {r.name}: x {r.multiplier}")
    points, note = _cap(membership, rule, int(value.to_integral_value(rounding=ROUND_FLOOR)), day)
    if note:
        steps.append(note)
    if points <= 0:
        return None
    return _credit(
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


def points_earn_for_purchase(purchase: Purchase) -> list[LedgerEntry]:
    """The purchase hook: runs inside the purchase's transaction. Joins eligible programs
    that enrol on purchase, then earns once per membership (key purchase:<id>)."""
    customer = purchase.customer
    day = timezone.localdate(purchase.occurred_at)
    member_of = set(Membership.objects.filter(customer=customer).values_list("program_id", flat=True))
    joinable = (
        Program.objects.filter(join_on_first_purchase=True, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .exclude(pk__in=member_of)
        .prefetch_related("eligible_segments", "tiers")
    )
    for program in joinable:
        if program_accepts(program, customer):
            # A concurrent purchase of the same customer may have joined first: earn below.
            with contextlib.suppress(Conflict):
                membership_join(program=program, customer=customer, source=JoinSource.PURCHASE, on=day)
    memberships = _lock_many(Membership.objects.filter(customer=customer).values_list("pk", flat=True))
    first = not Purchase.objects.filter(customer=customer).exclude(pk=purchase.pk).exists()
    entries = []
    for membership in memberships.values():
        membership.customer = customer
        if not membership.program.is_active_on(day):
            continue
        entry = _earn_purchase(membership, purchase, day)
        if entry:
            entries.append(entry)
        if first:
            _earn_event(membership=membership, event_code="first_purchase", key="first", day=day)
        _upgrade_if_qualified(membership, day)
    return entries


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
        raise ValidationFailed("The event code must be a short slug such as 'review'.", field="event_code")
    key = _clean_key(idempotency_key)
    if actor is not None:
        _check_staff_for(actor, customer)
    day = on or _today()
    entries = []
    memberships = _lock_many(Membership.objects.filter(customer=customer).values_list("pk", flat=True))
    for membership in memberships.values():
        membership.customer = customer
        if membership.program.is_active_on(day):
            entry = _earn_event(membership=membership, event_code=code, key=key, day=day, actor=actor)
            if entry:
                entries.append(entry)
                _upgrade_if_qualified(membership, day)
    return entries


def earn_missing_for_purchases(*, purchases) -> int:
    """Re-run earning over purchases (a retried task, a backfill): keys make it a no-op
    for purchases that already earned."""
    count = 0
    for purchase in purchases.select_related("customer"):
        with transaction.atomic():
            count += len(points_earn_for_purchase(purchase))
    return count


# ---------------------------------------------------------------- adjusting, refunding


@transaction.atomic
def points_adjust(
    *,
    membership: Membership,
    points: int,
    reason: str,
    actor: User,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """A manual correction by staff: a reason is required and the actor is recorded."""
    _check_staff_for(actor, membership.customer)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the points are adjusted.", field="reason")
    try:
        points = int(points)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("Points must be a whole number.", field="points") from exc
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise ValidationFailed(
            f"Points must be non-zero and at most {MAX_ADJUSTMENT:,} either way.", field="points"
        )
    key = "adjust:" + (_clean_key(idempotency_key) if idempotency_key else uuid.uuid4().hex)
    locked = _lock(membership)
    existing = _existing(locked, key)
    if existing:
        return existing
    if points > 0:
        entry = _credit(
            membership=locked,
            points=points,
            kind=EntryKind.ADJUST,
            key=key,
            earned_on=_today(),
            reason=reason,
            pending=False,
            actor=actor,
        )
    else:
        entry = _debit(membership=locked, points=-points, kind=EntryKind.ADJUST, key=key, reason=reason, actor=actor)
    membership.balance = locked.balance
    return entry


@transaction.atomic
def points_reverse_for_purchase(*, purchase: Purchase, actor: User, reason: str = "") -> list[LedgerEntry]:
    """A refunded purchase gives its points back. Points of the purchase that were already
    spent stay spent (the balance may never go negative); the reason says how many."""
    _check_staff_for(actor, purchase.customer)
    lots = list(LedgerEntry.objects.filter(purchase=purchase, kind=EntryKind.EARN))
    locked = _lock_many(lot.membership_id for lot in lots)
    reversals = []
    # Which lots were reversed already, in one query rather than one per lot.
    done = set(
        LedgerEntry.objects.filter(
            membership__in=list(locked), idempotency_key__in=[f"reverse:{lot.pk}" for lot in lots]
        ).values_list("membership_id", "idempotency_key")
    )
    for lot in LedgerEntry.objects.filter(pk__in=[lot.pk for lot in lots]).order_by("pk"):
        membership = locked[lot.membership_id]
        key = f"reverse:{lot.pk}"
        if (membership.pk, key) in done:
            continue
        text = (reason or "").strip() or f"Purchase {purchase.reference} refunded."
        if lot.pending_until is not None:
            amount = lot.points
            entry = LedgerEntry(
                membership=membership,
                kind=EntryKind.REVERSE,
                points=-amount,
                idempotency_key=key,
                pending_until=lot.pending_until,
                purchase=purchase,
                reversed_entry=lot,
                actor=actor,
                reason=text,
            )
            entry.save()
            LedgerEntry.objects.filter(pk=lot.pk).update(remaining=0)
            # The pending pair nets to zero when released; pending points drop now.
            Membership.objects.filter(pk=membership.pk).update(pending_points=F("pending_points") - amount)
            reversals.append(entry)
            continue
        amount = lot.remaining
        spent = lot.points - amount
        if amount == 0:
            continue
        if spent:
            text += f" {spent} of its points were already spent."
        LedgerEntry.objects.filter(pk=lot.pk).update(remaining=0)
        entry = LedgerEntry(
            membership=membership,
            kind=EntryKind.REVERSE,
            points=-amount,
            idempotency_key=key,
            purchase=purchase,
            reversed_entry=lot,
            actor=actor,
            reason=text,
        )
        entry.save()
        Membership.objects.filter(pk=membership.pk).update(balance=F("balance") - amount)
        reversals.append(entry)
    return reversals


# ---------------------------------------------------------------- rewards


def _new_code(reward: Reward) -> str:
    pooled = (
        RewardCode.objects.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
        .filter(reward=reward, used=False)
        .order_by("id")
        .first()
    )
    if pooled is not None:
        RewardCode.objects.filter(pk=pooled.pk).update(used=True)
        return pooled.code
    if RewardCode.objects.filter(reward=reward).exists():
        raise OutOfStock(f"The code pool of {reward.name} is empty.")
    return "RW-" + secrets.token_hex(5).upper()


@transaction.atomic
def points_redeem(*, membership: Membership, reward: Reward, actor: User, idempotency_key: str) -> Redemption:
    """Spend points on a reward. The membership row is locked first, so concurrent requests
    queue and the balance is checked against the committed figure; the same key twice
    returns the first redemption."""
    key = _clean_key(idempotency_key)
    _check_member_or_staff(actor, membership.customer)
    locked = _lock(membership)
    done = Redemption.objects.filter(membership=locked, idempotency_key=key).first()
    if done is not None:
        return done
    day = _today()
    if reward.program_id != locked.program_id:
        raise ValidationFailed("This reward belongs to another program.", field="reward")
    if not reward.is_active or not reward.is_valid_on(day):
        raise ValidationFailed(f"{reward.name} cannot be redeemed today.", field="reward")
    allowed = list(reward.tiers.all())
    if allowed and locked.tier not in allowed:
        raise NotAllowed(
            f"{reward.name} is for {', '.join(t.name for t in allowed)} members.", field="reward"
        )
    if reward.per_customer_limit is not None:
        used = Redemption.objects.filter(membership=locked, reward=reward).exclude(
            status=RedemptionStatus.CANCELLED
        ).count()
        if used >= reward.per_customer_limit:
            raise Conflict(
                f"{reward.name} can be redeemed {reward.per_customer_limit} time(s) per customer.",
                field="reward",
            )
    if locked.balance < reward.cost:
        raise InsufficientPoints(
            f"Not enough {locked.program.points_name}: {locked.balance} available, {reward.cost} needed.",
            field="reward",
        )
    if reward.stock is not None and not Reward.objects.filter(pk=reward.pk, stock__gt=0).update(
        stock=F("stock") - 1
    ):
        raise OutOfStock(f"{reward.name} is out of stock.", field="reward")
    redemption = Redemption.objects.create(
        membership=locked,
        reward=reward,
        code=_new_code(reward),
        points=reward.cost,
        idempotency_key=key,
        actor=actor if actor.is_authenticated else None,
    )
    _debit(
        membership=locked,
        points=reward.cost,
        kind=EntryKind.REDEEM,
        key=f"redeem:{redemption.pk}",
        reason=f"Redeemed {reward.name} ({redemption.code}).",
        redemption=redemption,
        actor=redemption.actor,
    )
    membership.balance = locked.balance
    return redemption


@transaction.atomic
def redemption_cancel(*, redemption: Redemption, actor: User, reason: str = "") -> Redemption:
    """Cancel an issued redemption: the points come back as a new lot, the stock too."""
    _check_member_or_staff(actor, redemption.membership.customer)
    locked = _lock(redemption.membership)
    current = Redemption.objects.select_for_update().get(pk=redemption.pk)
    if current.status != RedemptionStatus.ISSUED:
        raise Conflict(f"Redemption {current.code} is {current.get_status_display().lower()}.")
    current.status = RedemptionStatus.CANCELLED
    current.cancelled_at = timezone.now()
    current.save(update_fields=["status", "cancelled_at"])
    _credit(
        membership=locked,
        points=current.points,
        kind=EntryKind.REVERSE,
        key=f"cancel:{current.pk}",
        earned_on=_today(),
        reason=(reason or "").strip() or f"Redemption {current.code} cancelled.",
        pending=False,
        redemption=current,
        actor=actor,
    )
    Reward.objects.filter(pk=current.reward_id, stock__isnull=False).update(stock=F("stock") + 1)
    return current


@transaction.atomic
def redemption_fulfil(*, redemption: Redemption, actor: User) -> Redemption:
    _check_staff_for(actor, redemption.membership.customer)
    current = Redemption.objects.select_for_update().get(pk=redemption.pk)
    if current.status != RedemptionStatus.ISSUED:
        raise Conflict(f"Redemption {current.code} is {current.get_status_display().lower()}.")
    current.status = RedemptionStatus.FULFILLED
    current.fulfilled_at = timezone.now()
    current.save(update_fields=["status", "fulfilled_at"])
    return current


# ---------------------------------------------------------------- offers


@transaction.atomic
def offer_redeem(
    *, offer: Offer, customer: Customer, actor: User, purchase: Purchase | None = None
) -> OfferRedemption:
    _check_member_or_staff(actor, customer)
    locked = Offer.objects.select_for_update().get(pk=offer.pk)
    if not offers_for_customer(customer=customer).filter(pk=locked.pk).exists():
        raise Conflict(f"{customer} cannot use the offer {offer.name} (not targeted or used up).")
    return OfferRedemption.objects.create(
        offer=locked, customer=customer, purchase=purchase, actor=actor if actor.is_authenticated else None
    )


# ---------------------------------------------------------------- tiers


def _qualifying(program: Program, day: dt.date):
    """Memberships of a program annotated with what their tier is computed on."""
    from django.db.models import OuterRef, Subquery

    start = day - dt.timedelta(days=program.qualification_days)
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
            LedgerEntry.objects.filter(membership=OuterRef("pk"), effective_on__gt=start, effective_on__lte=day)
            .filter(Q(kind=EntryKind.EARN) | Q(kind=EntryKind.REVERSE, redemption__isnull=True))
            .order_by()
            .values("membership")
            .annotate(s=Sum("points"))
            .values("s")
        )
    dec = DecimalField(max_digits=16, decimal_places=2)
    return Membership.objects.filter(program=program).annotate(
        metric=Coalesce(Subquery(sub, output_field=dec), Value(Decimal(0)), output_field=dec)
    )


def _target_case(tiers: list[Tier]):
    dec = DecimalField(max_digits=16, decimal_places=2)
    whens = [When(metric__gte=t.threshold, then=Value(t.threshold)) for t in reversed(tiers)]
    return Case(*whens, default=Value(Decimal(-1)), output_field=dec)


def _upgrade_if_qualified(membership: Membership, day: dt.date) -> None:
    """Upgrades happen at once; downgrades wait for the nightly run and the policy."""
    tiers = sorted(membership.program.tiers.all(), key=lambda t: t.threshold)
    if not tiers:
        return
    metric = _qualifying(membership.program, day).filter(pk=membership.pk).values_list("metric", flat=True).first()
    target = next((t for t in reversed(tiers) if metric is not None and metric >= t.threshold), None)
    current = membership.tier
    if target is None or (current is not None and current.threshold >= target.threshold):
        return
    Membership.objects.filter(pk=membership.pk).update(tier=target, tier_since=day, below_tier_since=None)
    TierChange.objects.create(
        membership=membership,
        from_tier=current,
        to_tier=target,
        run_date=day,
        reason=f"Upgraded: {metric} qualifies for {target.name} (from {target.threshold}).",
    )
    membership.tier = target


def _metric_sql(program: Program, run_date: dt.date) -> tuple[str, list]:
    """SQL (mid, metric) of what each membership's tier is computed on, one GROUP BY."""
    m, e = Membership._meta.db_table, LedgerEntry._meta.db_table
    start = run_date - dt.timedelta(days=program.qualification_days)
    if program.tier_basis == TierBasis.SPEND:
        tz = timezone.get_current_timezone()
        since = dt.datetime.combine(start + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        until = dt.datetime.combine(run_date + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        p = Purchase._meta.db_table
        return (
            f"SELECT mm.id AS mid, SUM(p.amount) AS metric FROM {p} p JOIN {m} mm "  # noqa: S608
            f"ON mm.customer_id = p.customer_id AND mm.program_id = %s WHERE p.currency = %s "
            f"AND p.occurred_at >= %s AND p.occurred_at < %s GROUP BY mm.id",
            [program.pk, program.currency, since, until],
        )
    return (
        f"SELECT e.membership_id AS mid, SUM(e.points) AS metric FROM {e} e JOIN {m} mm "  # noqa: S608
        f"ON mm.id = e.membership_id AND mm.program_id = %s WHERE e.effective_on > %s "
        f"AND e.effective_on <= %s AND (e.kind = 'earn' OR (e.kind = 'reverse' AND "
        f"e.redemption_id IS NULL)) GROUP BY e.membership_id",
        [program.pk, start, run_date],
    )


def tiers_recompute(*, run_date: dt.date) -> int:
    """Set-based, per program: one GROUP BY computes every member's qualifying figure into a
    temporary table of target tiers; the policy removes the downgrades it does not allow;
    one INSERT records the changes with their reason and one UPDATE applies them.
    Upgrades always apply; downgrades follow the program's policy."""
    m = Membership._meta.db_table
    t = Tier._meta.db_table
    tc = TierChange._meta.db_table
    changed = 0
    for program in Program.objects.prefetch_related("tiers"):
        tiers = sorted(program.tiers.all(), key=lambda tier: tier.threshold)
        if not tiers:
            continue
        metric_sql, metric_params = _metric_sql(program, run_date)
        ordered = list(reversed(tiers))
        new_tier = "CASE " + " ".join("WHEN COALESCE(q.metric, 0) >= CAST(%s AS NUMERIC) THEN %s" for _ in ordered) + " ELSE NULL END"
        new_thr = "CASE " + " ".join("WHEN COALESCE(q.metric, 0) >= CAST(%s AS NUMERIC) THEN %s" for _ in ordered) + " ELSE -1 END"
        tier_params = [x for tier in ordered for x in (tier.threshold, tier.pk)]
        thr_params = [x for tier in ordered for x in (tier.threshold, tier.threshold)]
        policy = program.get_downgrade_policy_display().lower()
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS loyalty_tier_targets")
            cur.execute(
                "CREATE TEMPORARY TABLE loyalty_tier_targets (mid bigint PRIMARY KEY, old_tier bigint, "
                "new_tier bigint, old_thr numeric, new_thr numeric)"
            )
            cur.execute(
                f"INSERT INTO loyalty_tier_targets (mid, old_tier, new_tier, old_thr, new_thr) "  # noqa: S608
                f"SELECT m.id, m.tier_id, {new_tier}, COALESCE(ct.threshold, -1), {new_thr} "
                f"FROM {m} m LEFT JOIN ({metric_sql}) q ON q.mid = m.id LEFT JOIN {t} ct ON ct.id = m.tier_id "
                f"WHERE m.program_id = %s",
                [*tier_params, *thr_params, *metric_params, program.pk],
            )
            cur.execute("DELETE FROM loyalty_tier_targets WHERE new_thr = old_thr")
            if program.downgrade_policy == DowngradePolicy.GRACE_PERIOD:
                cur.execute(
                    f"UPDATE {m} SET below_tier_since = %s WHERE below_tier_since IS NULL AND id IN "  # noqa: S608
                    f"(SELECT mid FROM loyalty_tier_targets WHERE new_thr < old_thr)",
                    [run_date],
                )
                cur.execute(
                    f"UPDATE {m} SET below_tier_since = NULL WHERE program_id = %s AND "  # noqa: S608
                    f"below_tier_since IS NOT NULL AND id NOT IN (SELECT mid FROM loyalty_tier_targets "
                    f"WHERE new_thr < old_thr)",
                    [program.pk],
                )
                cur.execute(
                    f"DELETE FROM loyalty_tier_targets WHERE new_thr < old_thr AND mid IN (SELECT id "  # noqa: S608
                    f"FROM {m} WHERE program_id = %s AND below_tier_since > %s)",
                    [program.pk, run_date - dt.timedelta(days=program.grace_days)],
                )
            elif program.downgrade_policy == DowngradePolicy.END_OF_WINDOW:
                window_start = run_date - dt.timedelta(days=program.qualification_days)
                cur.execute(
                    f"DELETE FROM loyalty_tier_targets WHERE new_thr < old_thr AND mid IN (SELECT id "  # noqa: S608
                    f"FROM {m} WHERE program_id = %s AND tier_since > %s)",
                    [program.pk, window_start],
                )
            else:
                cur.execute("DELETE FROM loyalty_tier_targets WHERE new_thr < old_thr")
            cur.execute(
                f"INSERT INTO {tc} (membership_id, from_tier_id, to_tier_id, changed_at, run_date, reason) "  # noqa: S608
                f"SELECT x.mid, x.old_tier, x.new_tier, %s, %s, CASE WHEN x.new_thr > x.old_thr "
                f"THEN %s || COALESCE(nt.name, 'no tier') || '.' "
                f"ELSE %s || COALESCE(nt.name, 'no tier') || %s END "
                f"FROM loyalty_tier_targets x LEFT JOIN {t} nt ON nt.id = x.new_tier",
                [
                    timezone.now(),
                    run_date,
                    f"Nightly {run_date}: qualifies for ",
                    f"Nightly {run_date}: below the threshold, down to ",
                    f" ({policy}).",
                ],
            )
            changed += cur.rowcount
            cur.execute(
                f"UPDATE {m} SET tier_id = x.new_tier, tier_since = %s, below_tier_since = NULL "  # noqa: S608
                f"FROM loyalty_tier_targets x WHERE {m}.id = x.mid",
                [run_date],
            )
            cur.execute("DROP TABLE loyalty_tier_targets")
    return changed


# ---------------------------------------------------------------- nightly points


def points_release_and_expire(*, run_date: dt.date) -> int:
    """Set-based: release pending points whose date has come, then expire every lot whose
    expiry date has come. The expiry entries' keys (expire:<lot id>) are unique, and an
    expired lot has nothing remaining, so a second run expires nothing."""
    m = Membership._meta.db_table
    e = LedgerEntry._meta.db_table
    now = timezone.now()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Lock the affected memberships in pk order, as redemptions do.
            cur.execute(
                # Two index-backed halves (an OR would scan the whole ledger).
                f"SELECT count(*) FROM (SELECT id FROM {m} WHERE id IN ("  # noqa: S608
                f"SELECT membership_id FROM {e} WHERE pending_until <= %s UNION "
                f"SELECT membership_id FROM {e} WHERE remaining > 0 AND pending_until IS NULL "
                f"AND expires_on <= %s) ORDER BY id FOR UPDATE) locked",
                [run_date, run_date],
            )
        cur.execute(
            f"UPDATE {m} SET balance = {m}.balance + s.total, pending_points = {m}.pending_points - s.total "  # noqa: S608
            f"FROM (SELECT membership_id, SUM(points) AS total FROM {e} WHERE pending_until <= %s "
            f"GROUP BY membership_id) s WHERE {m}.id = s.membership_id",
            [run_date],
        )
        cur.execute(f"UPDATE {e} SET pending_until = NULL WHERE pending_until <= %s", [run_date])  # noqa: S608
        cur.execute(
            f"UPDATE {m} SET balance = {m}.balance - s.total "  # noqa: S608
            f"FROM (SELECT membership_id, SUM(remaining) AS total FROM {e} WHERE remaining > 0 "
            f"AND pending_until IS NULL AND expires_on <= %s GROUP BY membership_id) s "
            f"WHERE {m}.id = s.membership_id",
            [run_date],
        )
        cur.execute(
            f"INSERT INTO {e} (membership_id, kind, points, remaining, idempotency_key, created_at, "  # noqa: S608
            f"effective_on, pending_until, expires_on, purchase_id, event_code, redemption_id, "
            f"reversed_entry_id, rule_id, actor_id, reason) "
            f"SELECT membership_id, 'expire', -remaining, 0, 'expire:' || CAST(id AS varchar(20)), %s, %s, NULL, NULL, "
            f"NULL, '', NULL, id, NULL, NULL, %s FROM {e} "
            f"WHERE remaining > 0 AND pending_until IS NULL AND expires_on <= %s",
            [now, run_date, f"Expired on {run_date:%Y-%m-%d}.", run_date],
        )
        expired = cur.rowcount
        cur.execute(
            f"UPDATE {e} SET remaining = 0 WHERE remaining > 0 AND pending_until IS NULL "  # noqa: S608
            f"AND expires_on <= %s",
            [run_date],
        )
    return expired


def _try_lock(step: str) -> bool:
    """One run of a step at a time: a transaction-scoped advisory lock on PostgreSQL;
    SQLite serialises writers itself (and the unique succeeded-run row backs it up)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [zlib.crc32(f"loyalty:{step}".encode())])
        return bool(cur.fetchone()[0])


STEPS: dict[str, Callable[..., int]] = {
    "expire": points_release_and_expire,
    "tiers": tiers_recompute,
}


def nightly_step_run(*, step: str, run_date: dt.date) -> LoyaltyRun:
    """Run one nightly step for a date, at most once (a succeeded run is never repeated),
    under a lock, and record the run, whatever happens."""
    if step not in STEPS:
        raise ValidationFailed(f"Unknown step {step!r}; use one of {', '.join(STEPS)}.", field="step")
    started = timezone.now()
    try:
        with transaction.atomic():
            if not _try_lock(step):
                status, rows, error = RunStatus.SKIPPED, 0, "Another run of this step holds the lock."
            elif LoyaltyRun.objects.filter(step=step, run_date=run_date, status=RunStatus.SUCCEEDED).exists():
                status, rows, error = RunStatus.SKIPPED, 0, "Already done for this date."
            else:
                rows = STEPS[step](run_date=run_date)
                return LoyaltyRun.objects.create(
                    step=step,
                    run_date=run_date,
                    started_at=started,
                    finished_at=timezone.now(),
                    rows=rows,
                    status=RunStatus.SUCCEEDED,
                )
    except Exception as exc:
        LoyaltyRun.objects.create(
            step=step,
            run_date=run_date,
            started_at=started,
            finished_at=timezone.now(),
            status=RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
        )
        raise
    return LoyaltyRun.objects.create(
        step=step, run_date=run_date, started_at=started, finished_at=timezone.now(),
        rows=rows, status=status, error=error,
    )


def reward_problems(
    *,
    program: Program,
    cost: int | None,
    tiers: Iterable[Tier] = (),
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    active_rules: list[EarningRule] | None = None,
) -> list[str]:
    """Why nobody could ever redeem this reward (empty when someone can). `active_rules`:
    the program's active rules when the caller already has them."""
    problems = []
    tiers = list(tiers)
    if any(t.program_id != program.pk for t in tiers):
        problems.append("Only tiers of this reward's own program can redeem it.")
    if valid_until and valid_until < program.starts_on:
        problems.append("The reward stops before the program starts.")
    if valid_from and program.ends_on and valid_from > program.ends_on:
        problems.append("The reward starts after the program ends.")
    if cost and program.pk and program.expiry_policy == ExpiryPolicy.MONTHS_AFTER_EARNING:
        if active_rules is None:
            active_rules = list(program.rules.filter(is_active=True))
        earning = [r for r in active_rules if r.kind != RuleKind.MULTIPLIER]
        monthly = [r.cap_per_month or (r.cap_per_day * 31 if r.cap_per_day else None) for r in earning]
        if earning and all(monthly):
            ceiling = sum(monthly) * (program.expiry_months or 0)
            if cost > ceiling:
                problems.append(
                    f"Nobody can afford {cost} {program.points_name}: with the monthly caps and expiry "
                    f"after {program.expiry_months} months a member holds at most {ceiling}."
                )
    return problems


def tier_problems(tiers: Iterable[tuple[str, Decimal, Decimal]]) -> list[str]:
    """Contradictions in a program's tiers given as (name, threshold, multiplier)."""
    problems = []
    rows = sorted(tiers, key=lambda t: t[1])
    for (low_name, low_thr, low_mult), (high_name, high_thr, high_mult) in pairwise(rows):
        if low_thr == high_thr:
            problems.append(
                f"Tiers {low_name} and {high_name} overlap: both start at {low_thr}. "
                "Each tier needs its own threshold."
            )
        elif high_mult < low_mult:
            problems.append(
                f"Tier {high_name} (from {high_thr}) earns less ({high_mult}x) than the lower tier "
                f"{low_name} ({low_mult}x)."
            )
    names = [r[0].strip().lower() for r in rows]
    if len(set(names)) != len(names):
        problems.append("Two tiers have the same name.")
    return problems


def _lot_date_sql(program: Program, day_sql: str) -> tuple[str, str]:
    """SQL for (pending_until, expires_on) of a lot earned on `day_sql`, as lot_dates()."""
    pg = connection.vendor == "postgresql"
    if program.pending_days:
        pending = (
            f"(({day_sql}) + {int(program.pending_days)})"
            if pg
            else f"date({day_sql}, '+{int(program.pending_days)} days')"
        )
        pending = f"CASE WHEN {pending} > %s THEN {pending} ELSE NULL END"
    else:
        pending = "NULL"
    if program.expiry_policy == ExpiryPolicy.MONTHS_AFTER_EARNING:
        months = int(program.expiry_months or 0)
        expires = (
            f"(({day_sql}) + interval '{months} months')::date"
            if pg
            else f"date({day_sql}, '+{months} months')"
        )
    elif program.expiry_policy == ExpiryPolicy.END_OF_YEAR:
        expires = (
            f"make_date(extract(year from ({day_sql}))::int + 1, 1, 1)"
            if pg
            else f"date({day_sql}, 'start of year', '+1 year')"
        )
    else:
        expires = "NULL"
    return pending, expires


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
    money_rule = program.rules.filter(is_active=True, kind=RuleKind.PER_MONEY).order_by("priority").first()
    rate = (money_rule.points_per_unit if money_rule and money_rule.points_per_unit else None) or program.points_per_unit
    excluded = sorted(money_rule.excluded) if money_rule else []
    excluded_sql = (
        " AND lower(p.category) NOT IN (" + ", ".join(["%s"] * len(excluded)) + ")" if excluded else ""
    )
    segments = list(program.eligible_segments.values_list("pk", flat=True))
    segment_sql = (" AND cu.segment_id IN (" + ", ".join(["%s"] * len(segments)) + ")") if segments else ""
    window = f"p.currency = %s AND {day_sql} >= %s" + (f" AND {day_sql} <= %s" if program.ends_on else "")
    window_params = [program.currency, *tz, program.starts_on] + ([*tz, program.ends_on] if program.ends_on else [])
    pending, expires = _lot_date_sql(program, day_sql)
    today = _today()
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
            [program.pk, base.pk if base else None, today if base else None, now, *window_params, *segments],
        )
        if pg:
            cur.execute(
                f"SELECT count(*) FROM (SELECT id FROM {m} WHERE program_id = %s ORDER BY id FOR UPDATE) l",  # noqa: S608
                [program.pk],
            )
        points_sql = "CAST(floor(p.amount * %s) AS bigint)"
        pending_params = [*tz, today, *tz] if program.pending_days else []
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
                rate, rate, now, *tz, *pending_params, *expires_params,
                # No rule or actor foreign key per row: on PostgreSQL each one is a deferred
                # check at commit, and ten million of them double the commit time.
                None, None, f"Backfilled purchase ({rate} per unit) by {actor}.",
                program.pk, *window_params, *excluded, rate,
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


def program_enrol_eligible(*, program: Program, actor: User) -> int:
    """Join by rule: enrol every active customer of the eligible segments who is not yet a
    member, in one INSERT ... SELECT. Returns how many joined. (The sign-up bonus is for
    customers who join one by one; a bulk enrolment does not pay it.)"""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can enrol customers by rule.")
    if not program.is_active_on(_today()):
        raise ValidationFailed(f"{program} is not open today.", field="program")
    customers = Customer.objects.filter(status="active").exclude(memberships__program=program)
    segments = list(program.eligible_segments.values_list("pk", flat=True))
    if segments:
        customers = customers.filter(segment__in=segments)
    sql, params = customers.order_by().annotate(cid=F("pk")).values_list("cid").query.sql_with_params()
    base = program.tiers.filter(threshold=0).first()
    m = Membership._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {m} (program_id, customer_id, tier_id, tier_since, balance, pending_points, "  # noqa: S608
            f"joined_at, join_source) SELECT %s, s.cid, %s, %s, 0, 0, %s, 'rule' FROM ({sql}) s "
            f"WHERE true ON CONFLICT (customer_id, program_id) DO NOTHING",
            [program.pk, base.pk if base else None, _today() if base else None, timezone.now(), *params],
        )
        return cur.rowcount
