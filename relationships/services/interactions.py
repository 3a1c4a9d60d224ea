"""Writes on interactions: logging one (with the follow-up it asks for) and classifying a
complaint's root cause."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from customers.errors import NotAllowed, ValidationFailed
from customers.models import Customer, User
from customers.selectors import customers_visible_to

from ..models import Channel, DefectionReason, Interaction, InteractionKind, Sentiment
from .follow_ups import follow_up_add


def check_root_cause(*, kind: str, root_cause: DefectionReason | None) -> None:
    """A complaint says what it is about (a cause from the active taxonomy, the same one
    defections use, so the report can set them side by side); nothing else has a cause."""
    if kind != InteractionKind.COMPLAINT:
        if root_cause is not None:
            raise ValidationFailed(
                "Only a complaint has a root cause; leave it empty or choose kind Complaint.",
                field="root_cause",
            )
        return
    if root_cause is None:
        raise ValidationFailed(
            "Choose the complaint's root cause, so complaint analysis can count it.",
            field="root_cause",
        )
    if not root_cause.is_active:
        raise ValidationFailed(
            f"“{root_cause}” is no longer in use; choose one of the current causes.",
            field="root_cause",
        )


@transaction.atomic
def interaction_log(
    *,
    customer: Customer,
    author: User,
    channel: str,
    kind: str,
    subject: str,
    notes: str = "",
    occurred_at: dt.datetime | None = None,
    sentiment: int = Sentiment.NEUTRAL,
    follow_up_on: dt.date | None = None,
    root_cause: DefectionReason | None = None,
) -> Interaction:
    """Log a touchpoint. Staff may log only on customers they can see; a complaint needs
    its root cause."""
    if not author.is_staff_member:
        raise NotAllowed("Only staff log interactions here.")
    if not customers_visible_to(author).filter(pk=customer.pk).exists():
        raise NotAllowed("This customer is not in your book.")
    subject = (subject or "").strip()
    if not subject:
        raise ValidationFailed("Say in a few words what it was about.", field="subject")
    if channel not in Channel.values:
        raise ValidationFailed(f"Unknown channel {channel!r}.", field="channel")
    if kind not in InteractionKind.values:
        raise ValidationFailed(f"Unknown kind {kind!r}.", field="kind")
    if sentiment not in Sentiment.values:
        raise ValidationFailed("Sentiment runs from -2 to 2.", field="sentiment")
    check_root_cause(kind=kind, root_cause=root_cause)
    now = timezone.now()
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        raise ValidationFailed("The time must include a time zone.", field="occurred_at")
    if occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationFailed("An interaction cannot happen in the future.", field="occurred_at")
    if follow_up_on is not None and follow_up_on < occurred_at.date():
        raise ValidationFailed(
            "The follow-up must be on or after the interaction.", field="follow_up_on"
        )
    interaction = Interaction.objects.create(
        customer=customer,
        author=author,
        channel=channel,
        kind=kind,
        subject=subject[:200],
        notes=notes or "",
        occurred_at=occurred_at,
        sentiment=sentiment,
        follow_up_on=follow_up_on,
        root_cause=root_cause,
    )
    if follow_up_on is not None:
        try:
            follow_up_add(
                actor=author,
                customer=customer,
                due_on=follow_up_on,
                what=interaction.subject,
                interaction=interaction,
                earliest=occurred_at.date(),
            )
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, field="follow_up_on") from exc
    return interaction


@transaction.atomic
def complaint_root_cause_set(
    *, actor: User, interaction: Interaction, root_cause: DefectionReason | None
) -> Interaction:
    """Classify (or reclassify) a complaint: its customer's manager or an admin, later
    than the logging, e.g. once the cause is understood or for complaints logged before
    causes were asked for."""
    if not actor.is_staff_member:
        raise NotAllowed("Only staff classify complaints.")
    if not customers_visible_to(actor).filter(pk=interaction.customer_id).exists():
        raise NotAllowed("This customer is not in your book.")
    locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
    if locked.kind != InteractionKind.COMPLAINT:
        raise ValidationFailed("Only a complaint has a root cause.", field="root_cause")
    check_root_cause(kind=locked.kind, root_cause=root_cause)
    locked.root_cause = root_cause
    locked.save(update_fields=["root_cause"])
    return locked
