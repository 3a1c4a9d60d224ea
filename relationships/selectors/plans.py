"""Reads for corrective plans: plans and their actions (every staff member reads them),
who may own them, and whether a plan's causes went down after it started."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from customers.dates import add_months, local_midnight
from customers.models import Role, User
from customers.selectors import customers_visible_to

from ..models import CorrectiveAction, CorrectivePlan, Defection
from .defections import as_local_date

EFFECT_MONTHS = 6


def staff_users() -> QuerySet[User]:
    """Active admins and account managers: who may own a corrective plan or action."""
    return User.objects.filter(
        role__in=[Role.ADMIN, Role.ACCOUNT_MANAGER], is_active=True
    ).order_by("first_name", "last_name", "username")


def plans_visible_to(actor: User) -> QuerySet[CorrectivePlan]:
    """Plans are the company's: every staff member reads them."""
    if not actor.is_authenticated or not actor.is_staff_member:
        return CorrectivePlan.objects.none()
    return CorrectivePlan.objects.select_related("owner", "created_by").prefetch_related("causes")


def plan_get(*, actor: User, pk: int) -> CorrectivePlan:
    try:
        return plans_visible_to(actor).prefetch_related("recovery_team").get(pk=pk)
    except (CorrectivePlan.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such plan.") from exc


def actions_visible_to(actor: User) -> QuerySet[CorrectiveAction]:
    return CorrectiveAction.objects.filter(plan__in=plans_visible_to(actor)).select_related(
        "owner", "plan"
    )


def action_get(*, actor: User, pk: int) -> CorrectiveAction:
    try:
        return actions_visible_to(actor).get(pk=pk)
    except (CorrectiveAction.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such action.") from exc


def plan_effect(*, actor: User, plan: CorrectivePlan, today: dt.date | None = None) -> dict | None:
    """Defections for the plan's causes per month, relative to the customers active in
    that month, for the 6 whole months before the plan started and the 6 from the first
    whole month after it (months not over yet are left out). None for a draft.

    rate(month) = defections with those causes in the month / customers active in it,
    where active = acquired (or, without an acquisition date, created) by the month's end
    and not defected before its first day. A window's rate pools its months:
    sum of defections / sum of active customers.
    """
    if plan.started_on is None:
        return None
    today = today or timezone.localdate()
    first = plan.started_on.replace(day=1)
    pivot = first if plan.started_on.day == 1 else add_months(first, 1)
    # The month the plan starts in (unless it starts on the 1st) belongs to neither side.
    before_months = [add_months(first, i) for i in range(-EFFECT_MONTHS, 0)]
    months = before_months + [add_months(pivot, i) for i in range(EFFECT_MONTHS)]
    months = [m for m in months if add_months(m, 1) <= today]  # only months that are over
    if not months:
        return {"months": [], "before": None, "after": None, "pivot": pivot, "causes": []}
    cause_ids = list(plan.causes.values_list("pk", flat=True))
    visible = customers_visible_to(actor)

    counts = dict(
        Defection.objects.filter(
            customer__in=visible,
            reason__in=cause_ids,
            defected_on__gte=months[0],
            defected_on__lt=add_months(months[-1], 1),
        )
        .annotate(m=TruncMonth("defected_on"))
        .values_list("m")
        .annotate(n=Count("id"))
        .values_list("m", "n")
    )
    counts = {as_local_date(m): n for m, n in counts.items()}

    active_filters = {}
    for i, m in enumerate(months):
        end = add_months(m, 1)
        started = Q(acquired_on__lt=end) | Q(
            acquired_on__isnull=True, created_at__lt=local_midnight(end)
        )
        stayed = Q(left__isnull=True) | Q(left__gte=m)
        active_filters[f"m{i}"] = Count("id", filter=started & stayed)
    # One pass: the first defection per customer by a join and GROUP BY (Django wraps the
    # grouped rows in a subquery for the monthly counts), not a lookup per customer.
    active = visible.annotate(left=Min("defections__defected_on")).aggregate(**active_filters)

    rows = []
    for i, m in enumerate(months):
        n, base = counts.get(m, 0), active[f"m{i}"]
        rows.append(
            {
                "month": m,
                "defections": n,
                "active": base,
                "rate": n / base if base else None,
                "after": m >= pivot,
            }
        )

    def pooled(part):
        base = sum(r["active"] for r in part)
        return None if not part or not base else sum(r["defections"] for r in part) / base

    before = [r for r in rows if not r["after"]]
    after = [r for r in rows if r["after"]]
    return {
        "months": rows,
        "pivot": pivot,
        "before": pooled(before),
        "after": pooled(after),
        "before_months": len(before),
        "after_months": len(after),
        "causes": list(plan.causes.values_list("name", flat=True)),
    }


def effect_sentence(effect: dict | None) -> str:
    if effect is None:
        return "The plan has not started yet: set it active with its start date to compare."
    causes = " and ".join(c.lower() for c in effect["causes"]) or "its causes"
    if effect["before"] is None or effect["after"] is None:
        return f"Defections for {causes}: not enough whole months before and after the start yet."
    return (
        f"Defections for {causes}: {effect['before'] * 100:.1f}% a month before, "
        f"{effect['after'] * 100:.1f}% after."
    )
