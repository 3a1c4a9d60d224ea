"""Writes on the ladder of loyalty: moving a customer by hand, and accepting or
dismissing a rule's suggestion. Each move writes its StageChange in the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import Customer, Stage, StageChange, User
from customers.selectors import customers_visible_to

from ..models import LadderSuggestion, SuggestionStatus


def _move(*, customer: Customer, to_stage: str, actor: User, rule: str, reason: str) -> StageChange:
    """Move a locked customer and record the move in the same transaction."""
    change = StageChange.objects.create(
        customer=customer,
        from_stage=customer.stage,
        to_stage=to_stage,
        changed_by=actor,
        rule=rule,
        reason=reason[:300],
    )
    customer.stage = to_stage
    customer.save(update_fields=["stage", "updated_at"])
    return change


def _lock_visible_customer(actor: User, customer: Customer) -> Customer:
    if not actor.is_staff_member:
        raise NotAllowed("Only staff move customers on the ladder.")
    locked = customers_visible_to(actor).select_for_update().filter(pk=customer.pk).first()
    if locked is None:
        raise NotAllowed("This customer is not in your book.")
    return locked


@transaction.atomic
def ladder_move(*, actor: User, customer: Customer, to_stage: str, reason: str) -> StageChange:
    """An account manager (or admin) moves a customer up or down the ladder by hand."""
    reason = (reason or "").strip()
    if to_stage not in Stage.values:
        raise ValidationFailed(f"Unknown ladder stage {to_stage!r}.", field="to_stage")
    if not reason:
        raise ValidationFailed("Say why the customer moves.", field="reason")
    locked = _lock_visible_customer(actor, customer)
    if locked.stage == to_stage:
        raise ValidationFailed(
            f"{locked.name} is already a {Stage(to_stage).label.lower()}.", field="to_stage"
        )
    change = _move(customer=locked, to_stage=to_stage, actor=actor, rule="", reason=reason)
    # An open suggestion was made for the old rung; the next refresh suggests afresh.
    LadderSuggestion.objects.filter(customer=locked, status=SuggestionStatus.OPEN).delete()
    customer.stage = locked.stage
    return change


@transaction.atomic
def ladder_suggestion_decide(
    *, actor: User, suggestion: LadderSuggestion, accept: bool
) -> LadderSuggestion:
    """Accept (the customer moves, recorded with the rule and its reason) or dismiss."""
    customer = _lock_visible_customer(actor, suggestion.customer)
    locked = LadderSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if locked.status != SuggestionStatus.OPEN:
        raise Conflict(f"This suggestion was already {locked.get_status_display().lower()}.")
    if accept:
        if customer.stage != locked.from_stage:
            raise Conflict(
                f"{customer.name} has moved to {customer.get_stage_display().lower()} since this "
                "suggestion was made; dismiss it."
            )
        _move(
            customer=customer,
            to_stage=locked.to_stage,
            actor=actor,
            rule=locked.rule,
            reason=locked.reason,
        )
    locked.status = SuggestionStatus.ACCEPTED if accept else SuggestionStatus.DISMISSED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked
