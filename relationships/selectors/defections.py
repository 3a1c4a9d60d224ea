"""The defection and complaint report: why customers leave and complain, per month and
per segment.

Every figure is scoped by `customers_visible_to(actor)`: admins get the whole book, an
account manager their own. Each table is one grouped query.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from customers.dates import add_months, local_midnight
from customers.models import User
from customers.selectors import customers_visible_to

from ..models import Defection, DefectionReason, Interaction, InteractionKind

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


def defection_report(*, actor: User, today: dt.date | None = None) -> dict:
    """Defection reasons and complaint root causes over the last 12 months (this month
    included), per month and per segment."""
    today = today or timezone.localdate()
    start = add_months(today.replace(day=1), -(REPORT_MONTHS - 1))
    months = [add_months(start, i) for i in range(REPORT_MONTHS)]
    visible = customers_visible_to(actor)

    defections = Defection.objects.filter(
        customer__in=visible, defected_on__gte=start, defected_on__lte=today
    )
    complaints = Interaction.objects.filter(
        customer__in=visible,
        kind=InteractionKind.COMPLAINT,
        occurred_at__gte=local_midnight(start),
        occurred_at__lt=local_midnight(today + dt.timedelta(days=1)),
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
        "defections_by_month": _grid(def_rows, months, def_labels),
        "complaint_causes": com_labels,
        "complaints_by_month": _grid(com_rows, months, com_labels),
        "segments": segments,
    }
