"""Reads on relationships, scoped by the same visibility rule as customers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from customers.models import Customer, User
from customers.selectors import customer_recent_purchases, customers_visible_to

from .models import Interaction


def interactions_visible_to(actor: User) -> QuerySet[Interaction]:
    return Interaction.objects.filter(customer__in=customers_visible_to(actor))


def interaction_get(*, actor: User, pk: int) -> Interaction:
    try:
        return interactions_visible_to(actor).select_related("customer", "author").get(pk=pk)
    except (Interaction.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such interaction.") from exc


def follow_ups_due(*, actor: User, until: dt.date | None = None) -> QuerySet[Interaction]:
    """Open follow-ups on the actor's book, overdue first. For an account manager, the book
    is their customers; an admin sees the follow-ups they themselves wrote."""
    qs = interactions_visible_to(actor).filter(
        follow_up_on__isnull=False, follow_up_done_at__isnull=True
    )
    if actor.is_admin:
        qs = qs.filter(author=actor)
    if until is not None:
        qs = qs.filter(follow_up_on__lte=until)
    return qs.select_related("customer", "author").order_by("follow_up_on", "id")


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "interaction" or "purchase"
    occurred_at: dt.datetime
    obj: object

    @property
    def amount(self) -> Decimal | None:
        return getattr(self.obj, "amount", None)


def customer_timeline(
    *, customer: Customer, limit: int = 30, before: dt.datetime | None = None
) -> tuple[list[TimelineEntry], dt.datetime | None]:
    """Interactions and purchases, newest first: two indexed queries, merged in Python.
    Returns the page and the time to continue before, or None at the end."""
    interactions = customer.interactions.select_related("author")
    if before is not None:
        interactions = interactions.filter(occurred_at__lt=before)
    interactions = list(interactions.order_by("-occurred_at", "-id")[:limit])
    purchases = customer_recent_purchases(customer=customer, limit=limit, before=before)
    entries = [TimelineEntry("interaction", i.occurred_at, i) for i in interactions]
    entries += [TimelineEntry("purchase", p.occurred_at, p) for p in purchases]
    entries.sort(key=lambda e: e.occurred_at, reverse=True)
    page = entries[:limit]
    more = len(interactions) == limit or len(purchases) == limit or len(entries) > limit
    return page, (page[-1].occurred_at if page and more else None)


def today() -> dt.date:
    return timezone.localdate()
