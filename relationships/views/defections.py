"""The defection and complaint report page: why customers leave and complain, per month
and per segment, as stacked bars and a heat table."""

from __future__ import annotations

from django.shortcuts import render

from customers.permissions import staff_required

from ..selectors import defection_report
from .charts import heat_table, stacked_chart


@staff_required
def defection_report_view(request):
    actor = request.user
    data = defection_report(actor=actor)
    return render(
        request,
        "relationships/defection_report.html",
        {
            "nav": "analytics",
            "scope": "the whole book" if actor.is_admin else "your book",
            "data": data,
            "defection_chart": stacked_chart(
                data["defections_by_month"], data["defection_reasons"]
            ),
            "defection_table": heat_table(data["defections_by_month"], data["defection_reasons"]),
            "complaint_chart": stacked_chart(data["complaints_by_month"], data["complaint_causes"]),
            "complaint_table": heat_table(data["complaints_by_month"], data["complaint_causes"]),
        },
    )
