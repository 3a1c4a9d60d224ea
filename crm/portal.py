"""The portal's home and the data export: the pages that combine what every app holds
about the customer of the request (customers.permissions.customer_portal)."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from customers.models import Customer
from customers.permissions import customer_portal
from customers.portal.contact import contact_card
from customers.selectors import (
    customer_export,
    customer_recent_purchases,
    pending_deletion_request,
    portal_purchase_totals,
)
from loyalty.selectors import loyalty_export, portal_loyalty, recommendations_for_customer
from relationships.community.selectors.portal import community_export, my_recent_activity
from relationships.models import Interaction, RelationshipType
from relationships.selectors import strategies
from relationships.support.selectors import support_export


def has_dedicated_assistance(customer: Customer) -> bool:
    """The segment's relationship strategy includes dedicated personal assistance: the
    customer has a named account manager to talk to (registered in CrmConfig.ready)."""
    if customer.segment_id is None:
        return False
    strategy = strategies().filter(segment_id=customer.segment_id).first()
    return bool(
        strategy and RelationshipType.DEDICATED_ASSISTANCE.value in strategy.relationship_types
    )


def portal_home(request, customer: Customer) -> HttpResponse:
    loyalty = portal_loyalty(customer=customer)
    context = {
        "nav": "account",
        "customer": customer,
        "purchases": customer_recent_purchases(customer=customer, limit=5),
        "totals": portal_purchase_totals(customer=customer),
        "memberships": loyalty["memberships"],
        "offers": loyalty["offers"],
        "for_you": recommendations_for_customer(customer=customer),
        "contact": contact_card(customer),
        "activity": my_recent_activity(customer=customer, user=request.user),
        "deletion": pending_deletion_request(customer=customer),
    }
    return render(request, "portal/home.html", context)


def interactions_export(customer: Customer) -> list[dict[str, Any]]:
    """When and how we were in touch, and about what. The notes, the sentiment staff
    recorded, follow-ups and root causes are staff's working notes and stay out."""
    rows = Interaction.objects.filter(customer=customer).order_by("occurred_at", "id")
    return [dict(row) for row in rows.values("occurred_at", "channel", "kind", "subject")]


def export_data(customer: Customer) -> dict[str, Any]:
    return {
        "exported_at": timezone.now(),
        "about": (
            "Everything KeepCRM holds about you that you gave us or that happened between "
            "us. Internal working notes of our staff are not included; ask your contact "
            "if you want a copy of those too."
        ),
        **customer_export(customer=customer),
        "contacts_with_us": interactions_export(customer),
        "loyalty": loyalty_export(customer=customer),
        "community": community_export(customer=customer, user=customer.user),
        "support_requests": support_export(customer=customer),
    }


@customer_portal
def export(request, customer: Customer) -> HttpResponse:
    body = json.dumps(export_data(customer), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="keepcrm-my-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("my/export/", export, name="portal-export"),
]
