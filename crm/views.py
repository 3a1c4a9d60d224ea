"""Pages that combine several apps: home and the customer 360 page."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import urlencode
from django.views.generic import RedirectView

from crm.audit import change_rows, customer_changes
from crm.portal import portal_home
from customers.permissions import admin_required, staff_required
from customers.selectors import (
    customer_assignment_history,
    customer_get,
    customer_of_user,
    customer_stage_history,
    merged_survivor_id,
)
from customers.web import wants_fragment
from loyalty.selectors import customer_loyalty_panel
from relationships.forms import FollowUpForm, InteractionForm
from relationships.selectors import (
    TimelineCursor,
    customer_defection_panel,
    customer_follow_ups,
    customer_risk_panel,
    customer_timeline,
    staff_users,
    timeline_row,
    today,
)

# The first screen of the timeline; older entries come through the "Load more" cursor.
TIMELINE_PAGE = 20
# The newest changes on the customer page; the rest on the changes page, a page at a time.
CHANGES_ON_PAGE = 10
CHANGES_PAGE = 50


@login_required
def home(request):
    if request.user.is_staff_member:
        return redirect("customer-list")
    customer = customer_of_user(user=request.user)
    if customer is None:
        # A login nobody linked to a customer record yet: say so, and who can fix it.
        return render(request, "portal/unlinked.html", {"nav": "account"})
    return portal_home(request, customer)


class BadBefore(ValueError):
    pass


def _parse_before(value: str | None) -> TimelineCursor | None:
    if not value:
        return None
    try:
        return TimelineCursor.parse(value)
    except ValueError as exc:
        raise BadBefore(value) from exc


def _timeline_context(customer, before):
    entries, next_before = customer_timeline(customer=customer, limit=TIMELINE_PAGE, before=before)
    more_url = more_href = ""
    if next_before is not None:
        query = urlencode({"before": next_before.token})
        more_url = f"{reverse('customer-timeline', args=[customer.pk])}?{query}"
        more_href = f"{reverse('customer-detail', args=[customer.pk])}?{query}#timeline"
    return {
        "entries": [timeline_row(e) for e in entries],
        "more_url": more_url,
        "more_href": more_href,
    }


def _panels(actor, customer, defection: dict) -> list[dict]:
    """Sidebar panels other apps contribute: why a defected customer left, risk and value,
    then loyalty."""
    panels = [defection] if defection["defected"] else []
    risk = customer_risk_panel(actor=actor, customer=customer)
    if risk is not None:
        panels.append(risk)
    loyalty = customer_loyalty_panel(actor=actor, customer=customer)
    if loyalty is not None:
        panels.append({"template": "loyalty/_customer_panel.html", "data": loyalty})
    return panels


@staff_required
def customer_detail(request, pk: int):
    try:
        customer = customer_get(actor=request.user, pk=pk)
    except Http404:
        # A record merged into another: its old address leads to the survivor.
        survivor = merged_survivor_id(pk)
        if survivor is None:
            raise
        customer_get(actor=request.user, pk=survivor)  # out of the actor's book: 404
        messages.info(request, f"Customer #{pk} was merged into this record.")
        return redirect("customer-detail", pk=survivor)
    timeline_error = ""
    try:
        before = _parse_before(request.GET.get("before"))
    except BadBefore:
        before = None
        timeline_error = "That link does not point into this timeline (it may be cut short); here are the newest entries."
    defection = customer_defection_panel(actor=request.user, customer=customer)
    context = {
        "timeline_error": timeline_error,
        "nav": "customers",
        "customer": customer,
        "assignments": list(customer_assignment_history(customer=customer)[:20]),
        "stage_changes": customer_stage_history(customer=customer),
        "interaction_form": InteractionForm(),
        "panels": _panels(request.user, customer, defection),
        "defection": defection,
        "older_page": before is not None,
        **_timeline_context(customer, before),
        "follow_ups": customer_follow_ups(customer=customer),
        "follow_up_form": FollowUpForm(actor=request.user),
        "staff": list(staff_users()) if request.user.is_admin else [],
        "today": today(),
        "here": reverse("customer-detail", args=[customer.pk]),
        "place": "customer",
    }
    return render(request, "crm/customer_detail.html", context)


@staff_required
def customer_timeline_page(request, pk: int):
    """The next page of the timeline, for the HTMX "Load more" button."""
    customer = customer_get(actor=request.user, pk=pk)
    try:
        before = _parse_before(request.GET.get("before"))
    except BadBefore:
        return HttpResponseBadRequest("The 'before' parameter is not a timeline position.")
    if not wants_fragment(request):
        return redirect(f"{reverse('customer-detail', args=[pk])}?{request.GET.urlencode()}")
    context = {"customer": customer, **_timeline_context(customer, before)}
    return render(request, "crm/_timeline_page.html", context)


@admin_required
def customer_changes_page(request, pk: int):
    """Who changed what on the customer (admins only): the newest few as a fragment the
    customer page loads after it is shown, or every change a page at a time."""
    customer = customer_get(actor=request.user, pk=pk)
    entries = customer_changes(actor=request.user, customer=customer)
    if wants_fragment(request):
        # One more than shown says whether there are older ones, without counting them all.
        first = list(entries[: CHANGES_ON_PAGE + 1])
        context = {
            "customer": customer,
            "changes": change_rows(first[:CHANGES_ON_PAGE]),
            "more": len(first) > CHANGES_ON_PAGE,
        }
        return render(request, "crm/_changes.html", context)
    page = Paginator(entries, CHANGES_PAGE).get_page(request.GET.get("page"))
    context = {
        "nav": "customers",
        "customer": customer,
        "page": page,
        "changes": change_rows(list(page)),
    }
    return render(request, "crm/customer_changes.html", context)


class FaviconRedirect(RedirectView):
    """/favicon.ico, for pages that name no icon (the admin, the API docs): our SVG. Resolved
    per request, since the static file's hashed name is known only after collectstatic."""

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        return static("favicon.svg")


class AdminLoginRedirect(RedirectView):
    """The Django admin's own login form would skip two-factor sign-in and the portal's
    separation of logins: /admin/login/ sends to the one sign-in page, then back."""

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        if self.request.user.is_authenticated:
            # Signed in but not an admin (the admin sent them here): no loop through the
            # sign-in page, which would send them straight back.
            raise PermissionDenied("The admin is for admins only.")
        target = self.request.GET.get("next") or reverse("admin:index")
        return f"{reverse('login')}?{urlencode({'next': target})}"
