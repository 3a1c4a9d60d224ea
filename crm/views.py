"""Pages that combine several apps: home and the customer 360 page."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import urlencode
from django.views.generic import RedirectView

from crm.portal import portal_home
from customers.permissions import staff_required
from customers.selectors import (
    customer_assignment_history,
    customer_get,
    customer_of_user,
    customer_stage_history,
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
    customer = customer_get(actor=request.user, pk=pk)
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


class FaviconRedirect(RedirectView):
    """/favicon.ico, for pages that name no icon (the admin, the API docs): our SVG. Resolved
    per request, since the static file's hashed name is known only after collectstatic."""

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        return static("favicon.svg")
