"""Staff pages for loyalty: thin views over loyalty.selectors and loyalty.services."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from customers.errors import ApplicationError
from customers.formatting import points
from customers.permissions import admin_required, staff_required
from customers.selectors import customer_get

from .. import selectors, services
from ..forms import AdjustmentForm, OfferGiveForm


def _customer_page(customer_id: int) -> str:
    try:
        return reverse("customer-detail", kwargs={"pk": customer_id})
    except NoReverseMatch:  # the 360 page lives in crm; keep working without it
        return f"/customers/{customer_id}/"


@staff_required
@require_POST
def membership_adjust(request, pk: int):
    membership = selectors.membership_get(actor=request.user, pk=pk)
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"Adjustment not saved: {field}: {error}")
        return redirect(_customer_page(membership.customer_id))
    try:
        entry = services.points_adjust(
            membership=membership,
            points=form.cleaned_data["points"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
    except ApplicationError as exc:
        messages.error(request, f"Adjustment not saved: {exc.message}")
    else:
        messages.success(
            request,
            f"{'+' if entry.points > 0 else ''}{points(entry.points, membership.program.points_name)} "
            f"for {membership.customer} "
            f"({entry.reason}).",
        )
    return redirect(_customer_page(membership.customer_id))


@staff_required
@require_POST
def offer_give(request, pk: int):
    """Hand an offer to a customer from the customer page (again: nothing changes)."""
    customer = customer_get(actor=request.user, pk=pk)
    form = OfferGiveForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"Offer not handed out: {field}: {error}")
        return redirect(_customer_page(customer.pk))
    try:
        offer = selectors.offer_get(actor=request.user, pk=form.cleaned_data["offer"])
        grant, created = services.offer_grant(offer=offer, customer=customer, actor=request.user)
    except Http404:
        messages.error(request, "Offer not handed out: offer: no such offer; reload the page.")
    except ApplicationError as exc:
        messages.error(request, f"Offer not handed out: {exc.message}")
    else:
        if created:
            messages.success(
                request,
                f"{offer.name} handed to {customer}: they see it first among their offers "
                f"in the portal (coupon {offer.coupon_code}).",
            )
        else:
            messages.info(
                request,
                f"{customer} already had {offer.name}, handed out on "
                f"{grant.granted_at:%Y-%m-%d}; nothing changed.",
            )
    return redirect(_customer_page(customer.pk))


@admin_required
def program_list(request):
    programs = list(selectors.program_list())
    return render(request, "loyalty/program_list.html", {"nav": "loyalty", "programs": programs})


@admin_required
def program_detail(request, pk: int):
    program = selectors.program_get(actor=request.user, pk=pk)
    data = selectors.program_dashboard(program=program)
    return render(
        request,
        "loyalty/program_detail.html",
        {
            "nav": "loyalty",
            "d": data,
            "members_chart": selectors.bar_chart(data["members_by_tier"]),
            "earn_chart": selectors.bar_chart(data["earn_by_month"]),
            "burn_chart": selectors.bar_chart(data["burn_by_month"]),
            "rules": data["rules"],
            "tiers": data["tiers"],
            "rewards": data["rewards"],
            "offers": data["offers"],
            "changes": selectors.config_changes(program=program),
            "scheduled": selectors.config_changes(program=program, scheduled=True),
        },
    )
