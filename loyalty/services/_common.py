"""Small helpers every loyalty service module uses: today's date, who may act, request keys."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from customers.errors import NotAllowed, ValidationFailed
from customers.models import Customer, User
from customers.selectors import customers_visible_to

from ..selectors import customers_in_reach


def local_today() -> dt.date:
    return timezone.localdate()


def check_staff_for(actor: User, customer: Customer) -> None:
    if not (actor.is_authenticated and actor.is_staff_member) or not (
        customers_visible_to(actor).filter(pk=customer.pk).exists()
    ):
        raise NotAllowed("You can only change the points of customers in your book.")


def check_member_or_staff(actor: User, customer: Customer) -> None:
    # The same reach the selectors give: staff their book, a customer themselves.
    if not customers_in_reach(actor).filter(pk=customer.pk).exists():
        raise NotAllowed("You can only use your own membership.")


def clean_key(key: str | None) -> str:
    key = (str(key) if key is not None else "").strip()
    if not key:
        raise ValidationFailed("An idempotency key is required.", field="idempotency_key")
    if len(key) > 100:
        raise ValidationFailed(
            "The idempotency key is at most 100 characters.", field="idempotency_key"
        )
    return key
