"""Defection pages: marking a customer defected (with the reason), the defection and
complaint report (stacked bars and heat tables, each bar a link), and the lists of
defections and complaints behind each bar."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from customers.errors import ApplicationError
from customers.permissions import staff_required
from customers.selectors import customer_get
from customers.web import add_application_error

from ..forms import DefectionForm, ReportScopeForm
from ..selectors import (
    customer_defection_panel,
    defection_report,
    report_complaints,
    report_defections,
    report_window,
)
from ..services import defection_record
from .charts import heat_table, stacked_chart

# A drill-down shows this many rows; the heading gives the full count.
LIST_LIMIT = 200


@staff_required
@require_http_methods(["GET", "POST"])
def customer_mark_defected_view(request, pk: int):
    customer = customer_get(actor=request.user, pk=pk)
    panel = customer_defection_panel(actor=request.user, customer=customer)
    form = DefectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            defection_record(actor=request.user, customer=customer, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request, f"{customer} is marked defected: {form.cleaned_data['reason']}."
            )
            return redirect("customer-detail", pk=customer.pk)
    return render(
        request,
        "relationships/defection_form.html",
        {"nav": "customers", "customer": customer, "form": form, "panel": panel},
    )


def _link(name: str, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{reverse(name)}?{query}" if query else reverse(name)


def _defection_href(codes: list[str]) -> Callable:
    return lambda month, k: _link(
        "defection-list", reason=codes[k], month=month.strftime("%Y-%m") if month else ""
    )


def _complaint_href(codes: list[str]) -> Callable:
    def href(month, k):
        return _link(
            "complaint-list",
            reason=codes[k],
            unclassified="" if codes[k] else "1",
            month=month.strftime("%Y-%m") if month else "",
        )

    return href


@staff_required
def defection_report_view(request):
    actor = request.user
    data = defection_report(actor=actor)
    def_href = _defection_href(data["defection_reason_codes"])
    com_href = _complaint_href(data["complaint_cause_codes"])
    reasons = [
        {
            **row,
            "defections_url": _link("defection-list", reason=row["code"]) if row["code"] else "",
            "complaints_url": _link(
                "complaint-list", reason=row["code"], unclassified="" if row["code"] else "1"
            ),
            "plans_url": _link("plan-list", cause=row["code"]) if row["code"] else "",
            "new_plan_url": _link("plan-create", cause=row["code"]) if row["code"] else "",
        }
        for row in data["reasons"]
    ]
    return render(
        request,
        "relationships/defection_report.html",
        {
            "nav": "analytics",
            "scope": "the whole book" if actor.is_admin else "your book",
            "data": data,
            "reasons": reasons,
            "defection_chart": stacked_chart(
                data["defections_by_month"], data["defection_reasons"], href=def_href
            ),
            "defection_table": heat_table(
                data["defections_by_month"], data["defection_reasons"], href=def_href
            ),
            "complaint_chart": stacked_chart(
                data["complaints_by_month"], data["complaint_causes"], href=com_href
            ),
            "complaint_table": heat_table(
                data["complaints_by_month"], data["complaint_causes"], href=com_href
            ),
        },
    )


def _scoped_list(request, *, template: str, read) -> object:
    form = ReportScopeForm(request.GET)
    context = {"nav": "analytics", "form": form, "limit": LIST_LIMIT}
    if not form.is_valid():
        return render(request, template, {**context, "rows": [], "total": 0}, status=400)
    scope = form.scope()
    qs = read(actor=request.user, scope=scope)
    start, end = report_window()
    rows = list(qs[:LIST_LIMIT])
    total = len(rows) if len(rows) < LIST_LIMIT else qs.count()
    context.update(
        {
            "scope": scope,
            "rows": rows,
            "total": total,
            "start": start,
            "end": end,
            "plans_url": _link("plan-list", cause=scope.reason.code) if scope.reason else "",
        }
    )
    return render(request, template, context)


@staff_required
def defection_list_view(request):
    """The defected customers behind one bar of the report: ?reason=<code>&month=YYYY-MM."""
    return _scoped_list(
        request, template="relationships/defection_list.html", read=report_defections
    )


@staff_required
def complaint_list_view(request):
    """The complaints behind one bar of the report: ?reason=<code> or ?unclassified=1,
    and ?month=YYYY-MM."""
    return _scoped_list(
        request, template="relationships/complaint_list.html", read=report_complaints
    )
