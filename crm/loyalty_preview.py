"""The loyalty builder's preview: one customer's last twelve months replayed under the
program's current rules (loyalty) beside the book's expected points per month from the
nightly figures (relationships). Composed here because it reads both apps."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from customers.models import User
from customers.permissions import admin_required
from customers.selectors import customers_visible_to
from loyalty import selectors as loyalty_selectors
from loyalty.forms import PreviewForm
from loyalty.preview import customer_year_preview
from relationships.selectors.points_forecast import expected_points_by_month


def _admin(request: HttpRequest) -> User:
    """The signed-in admin (admin_required let only them in), typed for the services."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user


@admin_required
def loyalty_preview(request: HttpRequest, pk: int) -> HttpResponse:
    program = loyalty_selectors.program_get(actor=_admin(request), pk=pk)
    form = PreviewForm(request.GET if "customer" in request.GET else None)
    preview = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            customer = (
                customers_visible_to(_admin(request))
                .filter(pk=form.cleaned_data["customer"])
                .first()
            )
            if customer is None:
                form.add_error("customer", "No customer has this number.")
                status = 404
            else:
                preview = customer_year_preview(program=program, customer=customer)
        else:
            status = 400
    forecast = expected_points_by_month(program=program, today=timezone.localdate())
    chart = loyalty_selectors.bar_chart(
        [{"label": f"M{row['month']}", "value": row["points"]} for row in forecast["months"]]
    )
    return render(
        request,
        "loyalty/preview.html",
        {
            "nav": "loyalty",
            "program": program,
            "form": form,
            "preview": preview,
            "forecast": forecast,
            "forecast_chart": chart,
        },
        status=status,
    )
