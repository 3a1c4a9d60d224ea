"""Writes for retention work: relationship strategies (defections: services/defections.py)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from customers.errors import NotAllowed, ValidationFailed
from customers.models import Segment, User

from ..models import (
    PurchaseRhythm,
    RelationshipGoal,
    RelationshipStrategy,
    validate_relationship_types,
)


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
    switching_costs: str = "",
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
            "switching_costs": switching_costs or "",
        },
    )
    return strategy
