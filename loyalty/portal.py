"""The customer's loyalty pages: membership, tier and progress, balance and movements,
rewards (redeem with a confirmation, then the code), offers, joining a program.

Every view gets its customer from `customers.permissions.customer_portal` and reads
through the `portal_*` selectors, which look rows up *within that customer*: another
customer's membership, reward or redemption is a 404."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from customers.errors import ApplicationError
from customers.formatting import points
from customers.models import Customer
from customers.permissions import customer_portal

from .models import LedgerEntry
from .selectors import (
    movement_label,
    portal_loyalty,
    portal_membership,
    portal_movements,
    portal_program,
    portal_redemption,
    portal_reward,
    rewards_for_membership,
)
from .services import membership_join, points_redeem, redemption_cancel

MOVEMENTS_PER_PAGE = 30


class RedeemForm(forms.Form):
    # One key per confirmation page: a double click or a resent form redeems once.
    key = forms.CharField(max_length=100, widget=forms.HiddenInput)


@customer_portal
def loyalty_home(request, customer: Customer) -> HttpResponse:
    context = {"nav": "loyalty", "customer": customer, **portal_loyalty(customer=customer)}
    return render(request, "portal/loyalty.html", context)


@customer_portal
def movements(request, customer: Customer, pk: int) -> HttpResponse:
    membership = portal_membership(customer=customer, pk=pk)
    entries = portal_movements(LedgerEntry.objects.filter(membership=membership))
    page = Paginator(entries, MOVEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"entry": e, "label": movement_label(e)} for e in page]
    context = {"nav": "loyalty", "membership": membership, "page": page, "rows": rows}
    return render(request, "portal/movements.html", context)


def _reward_row(membership, reward) -> dict:
    for row in rewards_for_membership(membership=membership):
        if row["reward"].pk == reward.pk:
            return row
    # Inactive or out of its dates: the catalogue does not list it.
    return {"reward": reward, "can_redeem": False, "reason": "Not available today"}


@customer_portal
def reward_redeem(request, customer: Customer, pk: int) -> HttpResponse:
    reward, membership = portal_reward(customer=customer, pk=pk)
    form = RedeemForm(request.POST or None, initial={"key": uuid.uuid4().hex})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                redemption = points_redeem(
                    membership=membership,
                    reward=reward,
                    actor=request.user,
                    idempotency_key=f"portal:{form.cleaned_data['key']}",
                )
            except ApplicationError as exc:
                messages.error(request, f"{exc.message} Nothing was taken from your balance.")
                status = exc.status_code
            else:
                messages.success(
                    request,
                    f"Done: {reward.name} is yours for "
                    f"{points(redemption.points, membership.program.points_name)}. "
                    f"Your code is {redemption.code}.",
                )
                return redirect("portal-redemption", pk=redemption.pk)
        else:
            status = 400
            messages.error(request, "That confirmation has expired; please confirm again.")
    context = {
        "nav": "loyalty",
        "reward": reward,
        "membership": membership,
        "row": _reward_row(membership, reward),
        "balance_after": membership.balance - reward.cost,
        # A fresh key for the next try: the one just used is spent (or refused).
        "form": RedeemForm(initial={"key": uuid.uuid4().hex}),
    }
    return render(request, "portal/redeem_confirm.html", context, status=status)


@customer_portal
def redemption_detail(request, customer: Customer, pk: int) -> HttpResponse:
    redemption = portal_redemption(customer=customer, pk=pk)
    context = {"nav": "loyalty", "redemption": redemption}
    return render(request, "portal/redemption.html", context)


@customer_portal
@require_POST
def redemption_cancel_view(request, customer: Customer, pk: int) -> HttpResponse:
    redemption = portal_redemption(customer=customer, pk=pk)
    try:
        done = redemption_cancel(
            redemption=redemption, actor=request.user, reason="Cancelled by the customer."
        )
    except ApplicationError as exc:
        messages.error(request, f"{exc.message} If you need help, contact us.")
    else:
        messages.success(
            request,
            f"Cancelled: {points(done.points, redemption.membership.program.points_name)} "
            f"{'is' if done.points == 1 else 'are'} back on your balance.",
        )
    return redirect("portal-redemption", pk=redemption.pk)


@customer_portal
@require_POST
def program_join(request, customer: Customer, pk: int) -> HttpResponse:
    program = portal_program(customer=customer, pk=pk)
    try:
        membership_join(program=program, customer=customer, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Welcome to {program.name}! You now collect {program.points_name}."
        )
    return redirect("portal-loyalty")


urlpatterns = [
    path("my/loyalty/", loyalty_home, name="portal-loyalty"),
    path("my/loyalty/<int:pk>/movements/", movements, name="portal-movements"),
    path("my/loyalty/join/<int:pk>/", program_join, name="portal-loyalty-join"),
    path("my/rewards/<int:pk>/redeem/", reward_redeem, name="portal-reward-redeem"),
    path("my/redemptions/<int:pk>/", redemption_detail, name="portal-redemption"),
    path(
        "my/redemptions/<int:pk>/cancel/", redemption_cancel_view, name="portal-redemption-cancel"
    ),
]
