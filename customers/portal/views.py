"""Profile, preferences, purchases and the deletion request, as the customer sees them."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ..errors import ApplicationError
from ..models import Customer
from ..permissions import customer_portal
from ..selectors import (
    consent_history,
    pending_deletion_request,
    portal_purchase_totals,
    portal_purchases,
)
from ..services import (
    customer_preferences_set,
    customer_profile_update,
    deletion_request_create,
    deletion_request_withdraw,
)
from ..web import add_application_error
from .contact import contact_card
from .forms import DeletionRequestForm, PreferencesForm, ProfileForm

PURCHASES_PER_PAGE = 25


def _profile_page(request, customer: Customer, *, form=None, prefs=None, status=200):
    context = {
        "nav": "profile",
        "customer": customer,
        "form": form or ProfileForm(instance=customer),
        "prefs": prefs or PreferencesForm.for_customer(customer),
        "consents": list(consent_history(customer=customer)[:5]),
        "contact": contact_card(customer),
        "deletion": pending_deletion_request(customer=customer),
    }
    return render(request, "portal/profile.html", context, status=status)


@customer_portal
def profile(request, customer: Customer) -> HttpResponse:
    if request.method != "POST":
        return _profile_page(request, customer)
    form = ProfileForm(request.POST, instance=Customer.objects.get(pk=customer.pk))
    if form.is_valid():
        try:
            customer_profile_update(actor=request.user, customer=customer, **form.service_kwargs())
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Your contact details are saved.")
            return redirect("portal-profile")
    return _profile_page(request, customer, form=form, status=400)


@customer_portal
@require_POST
def preferences(request, customer: Customer) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if not form.is_valid():  # booleans: only a tampered post gets here
        return _profile_page(request, customer, prefs=form, status=400)
    try:
        updated = customer_preferences_set(
            actor=request.user, customer=customer, **form.service_kwargs()
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        return _profile_page(request, customer, prefs=form, status=400)
    if updated.newsletter_consent != customer.newsletter_consent:
        news = (
            "you will get the newsletter"
            if updated.newsletter_consent
            else "you will no longer get the newsletter"
        )
        messages.success(request, f"Your preferences are saved: {news}.")
    else:
        messages.success(request, "Your communication preferences are saved.")
    return redirect("portal-profile")


@customer_portal
def purchases(request, customer: Customer) -> HttpResponse:
    page = Paginator(portal_purchases(customer=customer), PURCHASES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav": "purchases",
        "customer": customer,
        "page": page,
        "totals": portal_purchase_totals(customer=customer),
    }
    return render(request, "portal/purchases.html", context)


@customer_portal
def deletion(request, customer: Customer) -> HttpResponse:
    pending = pending_deletion_request(customer=customer)
    form = DeletionRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and pending is None:
        if form.is_valid():
            try:
                deletion_request_create(
                    actor=request.user, customer=customer, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(
                    request,
                    "We have your request. Our team will delete your account within 30 days "
                    "and write to you when it is done.",
                )
                return redirect("portal-deletion")
        status = 400
    context = {"nav": "profile", "customer": customer, "form": form, "pending": pending}
    return render(request, "portal/deletion.html", context, status=status)


@customer_portal
@require_POST
def deletion_withdraw(request, customer: Customer) -> HttpResponse:
    pending = pending_deletion_request(customer=customer)
    if pending is None:
        messages.info(request, "There was no deletion request to withdraw.")
        return redirect("portal-profile")
    try:
        deletion_request_withdraw(actor=request.user, request=pending)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your deletion request is withdrawn; your account stays open.")
    return redirect("portal-profile")
