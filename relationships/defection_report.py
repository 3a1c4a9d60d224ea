"""Reads for the defection and complaint report and for corrective plans: why customers
leave and complain, per month and per segment, and whether a plan's causes went down.

Every figure is scoped by `customers_visible_to(actor)`: admins get the whole book, an
account manager their own. Each table is one grouped query.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from customers.models import User
from customers.selectors import customers_visible_to

from .models import (
    CorrectiveAction,
    CorrectivePlan,
    Defection,
    DefectionReason,
    Interaction,
    InteractionKind,
)

REPORT_MONTHS = 12
EFFECT_MONTHS = 6
UNCLASSIFIED = "Not classified"


def month_add(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _grid(rows, months: list[dt.date], labels: list[str]) -> list[dict]:
    """[{month, counts: [n per label], total}] from (month, label, n) rows."""
    cells = {(_as_date(m), label): n for m, label, n in rows}
    return [
        {
            "month": m,
            "counts": [cells.get((m, label), 0) for label in labels],
            "total": sum(cells.get((m, label), 0) for label in labels),
        }
        for m in months
    ]


def defection_report(*, actor: User, today: dt.date | None = None) -> dict:
    """Defection reasons and complaint root causes over the last 12 months (this month
    included), per month and per segment."""
    today = today or timezone.localdate()
    start = month_add(today, -(REPORT_MONTHS - 1))
    months = [month_add(start, i) for i in range(REPORT_MONTHS)]
    visible = customers_visible_to(actor)

    defections = Defection.objects.filter(
        customer__in=visible, defected_on__gte=start, defected_on__lte=today
    )
    complaints = Interaction.objects.filter(
        customer__in=visible,
        kind=InteractionKind.COMPLAINT,
        occurred_at__gte=_aware(start),
        occurred_at__lt=_aware(today + dt.timedelta(days=1)),
    )
    names = dict(DefectionReason.objects.values_list("pk", "name"))

    def_rows = [
        (m, names[r], n)
        for m, r, n in defections.annotate(m=TruncMonth("defected_on"))
        .values_list("m", "reason")
        .annotate(n=Count("id"))
        .values_list("m", "reason", "n")
    ]
    com_rows = [
        (m, names.get(r, UNCLASSIFIED), n)
        for m, r, n in complaints.annotate(m=TruncMonth("occurred_at"))
        .values_list("m", "root_cause")
        .annotate(n=Count("id"))
        .values_list("m", "root_cause", "n")
    ]
    by_segment = {}
    for seg, r, n in (
        defections.values_list("customer__segment__name", "reason").annotate(n=Count("id"))
        .values_list("customer__segment__name", "reason", "n")
    ):
        by_segment.setdefault(seg or "No segment", {"defections": {}, "complaints": {}})["defections"][names[r]] = n
    for seg, r, n in (
        complaints.values_list("customer__segment__name", "root_cause").annotate(n=Count("id"))
        .values_list("customer__segment__name", "root_cause", "n")
    ):
        by_segment.setdefault(seg or "No segment", {"defections": {}, "complaints": {}})["complaints"][
            names.get(r, UNCLASSIFIED)
        ] = n

    def labels_of(rows):
        seen = {label for _, label, _ in rows}
        ordered = [name for name in names.values() if name in seen]
        return ordered + ([UNCLASSIFIED] if UNCLASSIFIED in seen else [])

    def_labels, com_labels = labels_of(def_rows), labels_of(com_rows)
    segments = []
    for name in sorted(by_segment):
        d, c = by_segment[name]["defections"], by_segment[name]["complaints"]
        segments.append(
            {
                "segment": name,
                "defections": sum(d.values()),
                "complaints": sum(c.values()),
                "defection_reasons": d,
                "complaint_causes": c,
                "top_defection_reason": max(d, key=d.get) if d else "",
                "top_complaint_cause": max(c, key=c.get) if c else "",
            }
        )
    return {
        "start": start,
        "end": today,
        "months": months,
        "defection_reasons": def_labels,
        "defections_by_month": _grid(def_rows, months, def_labels),
        "complaint_causes": com_labels,
        "complaints_by_month": _grid(com_rows, months, com_labels),
        "segments": segments,
    }


# --- Corrective plans ----------------------------------------------------------------------


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
    return CorrectiveAction.objects.filter(plan__in=plans_visible_to(actor)).select_related("owner", "plan")


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
    pivot = plan.started_on if plan.started_on.day == 1 else month_add(plan.started_on, 1)
    # The month the plan starts in (unless it starts on the 1st) belongs to neither side.
    before_months = [month_add(plan.started_on, i) for i in range(-EFFECT_MONTHS, 0)]
    months = before_months + [month_add(pivot, i) for i in range(EFFECT_MONTHS)]
    months = [m for m in months if month_add(m, 1) <= today]  # only months that are over
    if not months:
        return {"months": [], "before": None, "after": None, "pivot": pivot, "causes": []}
    cause_ids = list(plan.causes.values_list("pk", flat=True))
    visible = customers_visible_to(actor)

    counts = dict(
        Defection.objects.filter(
            customer__in=visible, reason__in=cause_ids,
            defected_on__gte=months[0], defected_on__lt=month_add(months[-1], 1),
        )
        .annotate(m=TruncMonth("defected_on"))
        .values_list("m")
        .annotate(n=Count("id"))
        .values_list("m", "n")
    )
    counts = {_as_date(m): n for m, n in counts.items()}

    active_filters = {}
    for i, m in enumerate(months):
        end = month_add(m, 1)
        started = Q(acquired_on__lt=end) | Q(acquired_on__isnull=True, created_at__lt=_aware(end))
        stayed = Q(left__isnull=True) | Q(left__gte=m)
        active_filters[f"m{i}"] = Count("id", filter=started & stayed)
    # One pass: the first defection per customer by a join and GROUP BY (Django wraps the
    # grouped rows in a subquery for the monthly counts), not a lookup per customer.
    active = visible.annotate(left=Min("defections__defected_on")).aggregate(**active_filters)

    rows = []
    for i, m in enumerate(months):
        n, base = counts.get(m, 0), active[f"m{i}"]
        rows.append(
            {"month": m, "defections": n, "active": base, "rate": n / base if base else None, "after": m >= pivot}
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
