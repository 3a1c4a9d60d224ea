"""Whose loyalty an actor may see or use: the one rule every loyalty reader and service uses."""

from __future__ import annotations

from django.db.models import QuerySet

from customers.models import Customer, User
from customers.selectors import customer_of_user, customers_visible_to


def customers_in_reach(actor: User) -> QuerySet[Customer]:
    """Whose loyalty this actor may see or use: staff their book, a customer themselves."""
    if actor.is_authenticated and actor.is_staff_member:
        return customers_visible_to(actor)
    own = customer_of_user(user=actor) if actor.is_authenticated else None
    return Customer.objects.filter(pk=own.pk) if own else Customer.objects.none()
