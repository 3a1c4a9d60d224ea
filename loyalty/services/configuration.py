"""Admins configure programs, tiers, rules, rewards and offers; contradictions are refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from customers.errors import ApplicationError, Conflict, NotAllowed, ValidationFailed
from customers.formatting import months, number, points
from customers.models import User

from ..models import (
    ChangeStatus,
    ConfigChange,
    ConfigKind,
    EarningRule,
    ExpiryPolicy,
    Offer,
    Program,
    Reward,
    RuleKind,
    Tier,
)


def config_save(*, actor: User, obj, m2m: dict | None = None):
    """Admins configure programs, tiers, rules, rewards and offers; model clean() refuses
    contradictions with a message. The change is recorded (who, when, before/after)."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can configure loyalty programs.")
    with transaction.atomic():
        before = _stored(obj) if obj.pk else {}
        created = obj.pk is None
        _save(obj, m2m)
        ConfigChange.objects.create(
            program=program_of(obj),
            kind=kind_of(obj),
            object_id=obj.pk,
            object_name=display_name(obj),
            created=created,
            before=before,
            after=_stored(obj),
            effective_on=timezone.localdate(),
            actor=actor,
            applied_at=timezone.now(),
        )
    return obj


def _save(obj, m2m: dict | None) -> None:
    """Validate and save in a savepoint; refusals as ValidationFailed or Conflict."""
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


KINDS: dict[type[models.Model], str] = {
    Program: ConfigKind.PROGRAM,
    Tier: ConfigKind.TIER,
    EarningRule: ConfigKind.RULE,
    Reward: ConfigKind.REWARD,
    Offer: ConfigKind.OFFER,
}
# What a snapshot leaves out: the key, the owner and bookkeeping.
_NOT_SNAPSHOT = {"id", "program", "created_at"}


def display_name(obj) -> str:
    """How the pages name the object in a change: its own name (a rule with its place)."""
    if isinstance(obj, EarningRule):
        return f"#{obj.priority} {obj.name}"[:200]
    return str(getattr(obj, "name", obj))[:200]


def kind_of(obj) -> str:
    return KINDS[type(obj)]


def program_of(obj) -> Program | None:
    if isinstance(obj, Program):
        return obj
    return getattr(obj, "program", None)


def snapshot(obj) -> dict[str, Any]:
    """The configuration fields of an object as JSON: money and dates as text, foreign
    keys as ids, many-to-many as sorted ids."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in _NOT_SNAPSHOT:
            continue
        value = field.value_from_object(obj)
        if isinstance(value, Decimal):
            value = format(value.normalize(), "f")  # 1.5000 and 1.50 read alike: "1.5"
        data[field.name] = (
            value if value is None or isinstance(value, bool | int | str) else str(value)
        )
    if obj.pk:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return data


def _stored(obj) -> dict[str, Any]:
    """The snapshot as stored (money with its decimal places), as `before` is read."""
    return snapshot(type(obj)._default_manager.get(pk=obj.pk))


def config_schedule(
    *, actor: User, obj, changes: dict[str, Any], m2m: dict | None, effective_on: dt.date
) -> ConfigChange:
    """Apply `changes` (field: value) to a saved object now, or record them to be applied
    by the nightly run of `effective_on`. A scheduled change is checked now against
    today's configuration, so a contradiction is refused when it is made."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can configure loyalty programs.")
    today = timezone.localdate()
    if effective_on < today:
        raise ValidationFailed("A change cannot take effect in the past.", field="effective_on")
    if obj.pk is None or effective_on == today:
        for name, value in changes.items():
            setattr(obj, name, value)
        config_save(actor=actor, obj=obj, m2m=m2m)
        return ConfigChange.objects.filter(kind=kind_of(obj), object_id=obj.pk).latest("id")
    with transaction.atomic():
        current = type(obj).objects.select_for_update().get(pk=obj.pk)
        before = snapshot(current)
        trial = type(obj).objects.get(pk=obj.pk)
        for name, value in changes.items():
            setattr(trial, name, value)
        try:
            with transaction.atomic():
                _save(trial, m2m)
                after = _stored(trial)
                raise _DryRun
        except _DryRun:
            pass
        after = {k: v for k, v in after.items() if before.get(k) != v}
        if not after:
            raise ValidationFailed("Nothing would change.")
        return ConfigChange.objects.create(
            program=program_of(current),
            kind=kind_of(current),
            object_id=current.pk,
            object_name=display_name(current),
            before={k: before.get(k) for k in after},
            after=after,
            effective_on=effective_on,
            status=ChangeStatus.SCHEDULED,
            actor=actor,
        )


class _DryRun(Exception):
    """Rolls back a trial save that only checked a scheduled change."""


def config_change_cancel(*, actor: User, change: ConfigChange) -> ConfigChange:
    if not actor.is_admin:
        raise NotAllowed("Only an admin can configure loyalty programs.")
    with transaction.atomic():
        change = ConfigChange.objects.select_for_update().get(pk=change.pk)
        if change.status != ChangeStatus.SCHEDULED:
            raise Conflict(f"This change is {change.get_status_display().lower()} already.")
        change.status = ChangeStatus.CANCELLED
        change.save(update_fields=["status"])
    return change


def config_changes_apply(*, run_date: dt.date) -> int:
    """The nightly step: apply the scheduled changes due on or before `run_date`, oldest
    first, each in its own savepoint; one that no longer fits (the configuration changed
    meanwhile) is marked failed with the reason, and the others still apply."""
    applied = 0
    due = (
        ConfigChange.objects.select_for_update(skip_locked=True)
        .filter(status=ChangeStatus.SCHEDULED, effective_on__lte=run_date)
        .order_by("effective_on", "created_at", "id")
    )
    with transaction.atomic():
        for change in due:
            model = next(m for m, k in KINDS.items() if k == change.kind)
            try:
                obj = model._default_manager.select_for_update().get(pk=change.object_id)
                m2m = {}
                for name, value in change.after.items():
                    field = obj._meta.get_field(name)
                    if field.many_to_many:
                        m2m[name] = value
                    elif isinstance(field, models.Field):
                        setattr(obj, field.attname, field.to_python(value))
                _save(obj, m2m)
            except (ApplicationError, ObjectDoesNotExist) as exc:
                change.status = ChangeStatus.FAILED
                change.error = getattr(exc, "message", str(exc))[:2000]
                change.save(update_fields=["status", "error"])
                continue
            change.status = ChangeStatus.APPLIED
            change.applied_at = timezone.now()
            change.save(update_fields=["status", "applied_at"])
            applied += 1
    return applied


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
        monthly = [
            r.cap_per_month or (r.cap_per_day * 31 if r.cap_per_day else None) for r in earning
        ]
        caps = [m for m in monthly if m]
        if earning and len(caps) == len(monthly):  # every rule capped
            ceiling = sum(caps) * (program.expiry_months or 0)
            if cost > ceiling:
                problems.append(
                    f"Nobody can afford {points(cost, program.points_name)}: with the monthly caps and "
                    f"expiry after {months(program.expiry_months)} a member holds at most "
                    f"{number(ceiling)}."
                )
    return problems


def tier_problems(tiers: Iterable[tuple[str, Decimal, Decimal | int]]) -> list[str]:
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
