"""The defection and complaint report: why customers leave and complain, per month and
per segment, and the defections and complaints behind each of its bars.

Every figure is scoped by `customers_visible_to(actor)`: admins get the whole book, an
account manager their own. Each table is one grouped query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from customers.dates import add_months, local_midnight
from customers.models import Customer, CustomerStatus, User
from customers.selectors import customers_visible_to

from ..models import CorrectivePlan, Defection, DefectionReason, Interaction, InteractionKind

REPORT_MONTHS = 12
UNCLASSIFIED = "Not classified"


def as_local_date(value: dt.date | dt.datetime) -> dt.date:
    """A TruncMonth value as a date: truncating a DateTimeField gives a datetime."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _grid(rows: list[tuple], months: list[dt.date], labels: list[str]) -> list[dict]:
    """[{month, counts: [n per label], total}] from (month, label, n) rows."""
    cells = {(as_local_date(m), label): n for m, label, n in rows}
    return [
        {
            "month": m,
            "counts": [cells.get((m, label), 0) for label in labels],
            "total": sum(cells.get((m, label), 0) for label in labels),
        }
        for m in months
    ]


@dataclass(frozen=True)
class ReportScope:
    """Which defections or complaints a drill-down from the report lists: one reason (or,
    for complaints, those with no cause), one month or the report's whole window."""

    reason: DefectionReason | None = None
    unclassified: bool = False
    month: dt.date | None = None  # the first of the month


def report_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The report's first day (the first of the month 11 months back) and its last (today)."""
    today = today or timezone.localdate()
    return add_months(today.replace(day=1), -(REPORT_MONTHS - 1)), today


def _defections_in(actor: User, start: dt.date, end: dt.date) -> QuerySet[Defection]:
    return Defection.objects.filter(
        customer__in=customers_visible_to(actor), defected_on__gte=start, defected_on__lte=end
    )


def _complaints_in(actor: User, start: dt.date, end: dt.date) -> QuerySet[Interaction]:
    return Interaction.objects.filter(
        customer__in=customers_visible_to(actor),
        kind=InteractionKind.COMPLAINT,
        occurred_at__gte=local_midnight(start),
        occurred_at__lt=local_midnight(end + dt.timedelta(days=1)),
    )


def _scope_bounds(scope: ReportScope, today: dt.date | None) -> tuple[dt.date, dt.date]:
    start, end = report_window(today)
    if scope.month is not None:
        start, end = scope.month, min(add_months(scope.month, 1) - dt.timedelta(days=1), end)
    return start, end


def report_defections(
    *, actor: User, scope: ReportScope, today: dt.date | None = None
) -> QuerySet[Defection]:
    """The defections behind one bar (or one reason's row) of the report, newest first."""
    qs = _defections_in(actor, *_scope_bounds(scope, today))
    if scope.reason is not None:
        qs = qs.filter(reason=scope.reason)
    return qs.select_related(
        "reason", "recorded_by", "customer__segment", "customer__account_manager"
    ).order_by("-defected_on", "-id")


def report_complaints(
    *, actor: User, scope: ReportScope, today: dt.date | None = None
) -> QuerySet[Interaction]:
    """The complaints behind one bar (or one cause's row) of the report, newest first."""
    qs = _complaints_in(actor, *_scope_bounds(scope, today))
    if scope.unclassified:
        qs = qs.filter(root_cause__isnull=True)
    elif scope.reason is not None:
        qs = qs.filter(root_cause=scope.reason)
    return qs.select_related("root_cause", "author", "customer__segment").order_by(
        "-occurred_at", "-id"
    )


def defection_report(*, actor: User, today: dt.date | None = None) -> dict:
    """Defection reasons and complaint root causes over the last 12 months (this month
    included), per month, per reason (with the corrective plans on it) and per segment.
    Complaints logged before causes were asked for count as "Not classified"."""
    start, today = report_window(today)
    months = [add_months(start, i) for i in range(REPORT_MONTHS)]
    defections = _defections_in(actor, start, today)
    complaints = _complaints_in(actor, start, today)
    reasons = {r.pk: r for r in DefectionReason.objects.all()}
    names = {pk: r.name for pk, r in reasons.items()}

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
    by_segment: dict[str, dict[str, dict[str, int]]] = {}
    for seg, r, n in (
        defections.values_list("customer__segment__name", "reason")
        .annotate(n=Count("id"))
        .values_list("customer__segment__name", "reason", "n")
    ):
        by_segment.setdefault(seg or "No segment", {"defections": {}, "complaints": {}})[
            "defections"
        ][names[r]] = n
    for seg, r, n in (
        complaints.values_list("customer__segment__name", "root_cause")
        .annotate(n=Count("id"))
        .values_list("customer__segment__name", "root_cause", "n")
    ):
        by_segment.setdefault(seg or "No segment", {"defections": {}, "complaints": {}})[
            "complaints"
        ][names.get(r, UNCLASSIFIED)] = n

    def labels_of(rows):
        seen = {label for _, label, _ in rows}
        ordered = [name for name in names.values() if name in seen]
        return ordered + ([UNCLASSIFIED] if UNCLASSIFIED in seen else [])

    by_name = {r.name: r for r in reasons.values()}

    def codes_of(labels):
        # The key a link uses: the reason's code; "" for the complaints with no cause.
        return [by_name[label].code if label in by_name else "" for label in labels]

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
                "top_defection_reason": max(d, key=d.__getitem__) if d else "",
                "top_complaint_cause": max(c, key=c.__getitem__) if c else "",
            }
        )
    return {
        "start": start,
        "end": today,
        "months": months,
        "defection_reasons": def_labels,
        "defection_reason_codes": codes_of(def_labels),
        "defections_by_month": _grid(def_rows, months, def_labels),
        "complaint_causes": com_labels,
        "complaint_cause_codes": codes_of(com_labels),
        "complaints_by_month": _grid(com_rows, months, com_labels),
        "reasons": _reason_rows(reasons, def_rows, com_rows),
        "segments": segments,
    }


def _reason_rows(
    reasons: dict[int, DefectionReason], def_rows: list[tuple], com_rows: list[tuple]
) -> list[dict]:
    """One row per cause that has a defection or a complaint in the window: its totals
    and how many corrective plans address it (plans are the company's: everyone's)."""
    defections: dict[str, int] = {}
    complaints: dict[str, int] = {}
    for _, label, n in def_rows:
        defections[label] = defections.get(label, 0) + n
    for _, label, n in com_rows:
        complaints[label] = complaints.get(label, 0) + n
    plans = {
        row["defectionreason"]: row["n"]
        for row in CorrectivePlan.causes.through.objects.values("defectionreason").annotate(
            n=Count("id")
        )
    }
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "defections": defections.get(r.name, 0),
            "complaints": complaints.get(r.name, 0),
            "plans": plans.get(r.pk, 0),
        }
        for r in reasons.values()
        if r.name in defections or r.name in complaints
    ]
    if UNCLASSIFIED in complaints:
        rows.append(
            {
                "code": "",
                "name": UNCLASSIFIED,
                "defections": 0,
                "complaints": complaints[UNCLASSIFIED],
                "plans": 0,
            }
        )
    return rows


def latest_defection(customer: Customer) -> Defection | None:
    return (
        Defection.objects.filter(customer=customer)
        .select_related("reason", "recorded_by")
        .order_by("-defected_on", "-id")
        .first()
    )


def customer_defection_panel(*, actor: User, customer: Customer) -> dict:
    """For the customer page: the latest recorded defection, and whether "Mark defected"
    applies (a customer who is not defected, or one made defected before reasons were
    asked for, whose reason is still missing)."""
    latest = latest_defection(customer) if customer.status == CustomerStatus.DEFECTED else None
    return {
        "template": "relationships/_defection_panel.html",
        "defected": customer.status == CustomerStatus.DEFECTED,
        "latest": latest,
        "can_mark": actor.is_staff_member and latest is None,
    }
