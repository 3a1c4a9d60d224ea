"""Writes for retention work: defections and relationship strategies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.errors import NotAllowed, ValidationFailed
from customers.models import Customer, CustomerStatus, Segment, User
from customers.selectors import customers_visible_to
from customers.services import customer_update

from ..models import (
    Defection,
    DefectionReason,
    PurchaseRhythm,
    RelationshipGoal,
    RelationshipStrategy,
    validate_relationship_types,
)


@transaction.atomic
def defection_record(
    *,
    actor: User,
    customer: Customer,
    reason: DefectionReason,
    defected_on: dt.date | None = None,
    exit_interview_notes: str = "",
) -> Defection:
    """Record that a customer left and why; the customer's status becomes defected."""
    if not actor.is_staff_member:
        raise NotAllowed("Only staff record defections.")
    if not customers_visible_to(actor).filter(pk=customer.pk).exists():
        raise NotAllowed("This customer is not in your book.")
    if reason is None or not reason.is_active:
        raise ValidationFailed("Choose an active defection reason.", field="reason")
    defected_on = defected_on or timezone.localdate()
    if defected_on > timezone.localdate():
        raise ValidationFailed("A defection cannot be in the future.", field="defected_on")
    defection = Defection.objects.create(
        customer=customer,
        reason=reason,
        defected_on=defected_on,
        exit_interview_notes=exit_interview_notes or "",
        recorded_by=actor,
    )
    if customer.status != CustomerStatus.DEFECTED:
        customer_update(actor=actor, customer=customer, status=CustomerStatus.DEFECTED)
    return defection


@transaction.atomic
def strategy_save(
    *,
    actor: User,
    segment: Segment,
    relationship_types: list[str],
    goal: str,
    rhythm: str = PurchaseRhythm.MARRIAGE,
    expected_gap_days: int | None = None,
    cost_to_serve_per_year: Decimal | str | int = Decimal("0"),
    currency: str = "EUR",
    notes: str = "",
) -> RelationshipStrategy:
    """Create or replace the relationship strategy of a segment (admins only)."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin sets relationship strategies.")
    try:
        validate_relationship_types(list(relationship_types or []))
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], field="relationship_types") from exc
    if goal not in RelationshipGoal.values:
        raise ValidationFailed(f"Unknown goal {goal!r}.", field="goal")
    if rhythm not in PurchaseRhythm.values:
        raise ValidationFailed(f"Unknown purchase rhythm {rhythm!r}.", field="rhythm")
    if rhythm == PurchaseRhythm.MARRIAGE and not (expected_gap_days and expected_gap_days > 0):
        raise ValidationFailed(
            "A marriage needs the expected number of days between purchases.",
            field="expected_gap_days",
        )
    try:
        cost = Decimal(str(cost_to_serve_per_year))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(
            "The cost must be an amount.", field="cost_to_serve_per_year"
        ) from exc
    if not cost.is_finite() or cost < 0 or abs(cost) >= Decimal("1e10"):
        raise ValidationFailed("The cost must be zero or more.", field="cost_to_serve_per_year")
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ValidationFailed("The currency must be a three-letter ISO code.", field="currency")
    strategy, _ = RelationshipStrategy.objects.update_or_create(
        segment=segment,
        defaults={
            "relationship_types": list(dict.fromkeys(relationship_types)),
            "goal": goal,
            "rhythm": rhythm,
            "expected_gap_days": expected_gap_days
            if rhythm == PurchaseRhythm.MARRIAGE
            else expected_gap_days or None,
            "cost_to_serve_per_year": cost.quantize(Decimal("0.01")),
            "currency": currency,
            "notes": notes or "",
        },
    )
    return strategy
