"""Staff's co-creation pages: the ideas triage and the customers active in the community."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from customers.permissions import staff_required

from .. import selectors
from ..models import IdeaStatus

TRIAGE_PAGE = 50


@staff_required
def idea_triage(request):
    status = request.GET.get("status", "")
    status = status if status in IdeaStatus.values else ""
    ideas = selectors.idea_triage(actor=request.user, status=status)
    return render(
        request,
        "community/staff/ideas.html",
        {
            "nav": "ideas",
            "tab": "ideas",
            "status": status,
            "statuses": IdeaStatus.choices,
            "page": Paginator(ideas, TRIAGE_PAGE).get_page(request.GET.get("page")),
        },
    )


@staff_required
def community_active(request):
    """The actor's customers (their book; an admin's: everyone) active in the last 90 days."""
    return render(
        request,
        "community/staff/active.html",
        {
            "nav": "ideas",
            "tab": "active",
            "days": selectors.ACTIVITY_DAYS,
            "sources": selectors.ACTIVITY_SOURCES,
            "rows": selectors.customers_active_in_community(actor=request.user),
        },
    )
