"""Writes on at-risk flags: the account manager marks one handled, with a note."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import User
from customers.selectors import customers_visible_to

from ..models import HANDLED_NOTE_MAX, RiskFlag


def clean_handled_note(note: str | None) -> str:
    """The note a handled flag carries: what was done and what comes next. Shared by the
    form and the API so both refuse the same input with the same words."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(
            "Say what you did about it (a call, an offer, a visit planned).", field="note"
        )
    if "\x00" in note:
        raise ValidationFailed("The note contains a NUL character; remove it.", field="note")
    if len(note) > HANDLED_NOTE_MAX:
        raise ValidationFailed(
            f"Keep the note to {HANDLED_NOTE_MAX} characters (it has {len(note)}).", field="note"
        )
    return note


@transaction.atomic
def risk_flag_handle(*, actor: User, flag: RiskFlag, note: str) -> RiskFlag:
    """Mark an open flag handled: it moves below the unhandled flags in the queue until a
    night finds the customer still at risk. The customer's account manager or an admin
    (anyone who has the customer in their book). Handling again replaces the note.

    No interaction is logged: the note says what was done; a call or a visit is logged as
    the interaction it was, and only that counts as contact for the risk score."""
    if not actor.is_staff_member:
        raise NotAllowed("Only staff handle at-risk flags.")
    if not customers_visible_to(actor).filter(pk=flag.customer_id).exists():
        raise NotAllowed("This customer is not in your book.")
    note = clean_handled_note(note)
    locked = RiskFlag.objects.select_for_update().get(pk=flag.pk)
    if locked.cleared_on is not None:
        raise Conflict(
            f"This flag was cleared on {locked.cleared_on:%d %b %Y}: the customer is no "
            "longer at risk, there is nothing left to handle."
        )
    locked.handled_at = timezone.now()
    locked.handled_by = actor
    locked.handled_note = note
    locked.reraised_on = None  # handled again after a re-raise: back below the open ones
    locked.save(update_fields=["handled_at", "handled_by", "handled_note", "reraised_on"])
    return RiskFlag.objects.select_related("handled_by").get(pk=locked.pk)
