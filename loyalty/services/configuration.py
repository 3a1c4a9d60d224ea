"""Admins configure programs, tiers, rules, rewards and offers; contradictions are refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.formatting import months, number, points
from customers.models import User

from ..models import EarningRule, ExpiryPolicy, Program, Reward, RuleKind, Tier


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
