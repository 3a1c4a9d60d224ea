"""What the co-creation services share: who is writing, and text checked before it is stored."""

from __future__ import annotations

from customers.errors import NotAllowed, ValidationFailed
from customers.models import Customer, User
from customers.selectors import customer_of_user


def own_customer(user: User, doing: str) -> Customer:
    """The customer record a customer login writes for; staff and unlinked logins are refused."""
    customer = customer_of_user(user=user) if user.is_active else None
    if customer is None:
        raise NotAllowed(f"Only a customer with a linked account can {doing}.")
    return customer


def require_staff(user: User, doing: str) -> None:
    if not (user.is_authenticated and user.is_staff_member):
        raise NotAllowed(f"Only staff can {doing}.")


def clean_text(value: object, *, field: str, label: str, max_length: int) -> str:
    """Stripped text, refused when empty, too long or holding a NUL character (PostgreSQL
    cannot store one; a form or serializer usually catches it first)."""
    if not isinstance(value, str):
        raise ValidationFailed(f"{label} must be text.", field=field)
    if "\x00" in value:
        raise ValidationFailed(f"{label} cannot contain NUL characters.", field=field)
    text = value.strip()
    if not text:
        raise ValidationFailed(f"{label} is required.", field=field)
    if len(text) > max_length:
        raise ValidationFailed(
            f"{label} is too long ({len(text)} characters; at most {max_length}).", field=field
        )
    return text
