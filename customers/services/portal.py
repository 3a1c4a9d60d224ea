"""The customer's own record: profile, preferences and consent, deletion requests."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ..errors import Conflict, NotAllowed, ValidationFailed
from ..models import (
    ConsentChange,
    ConsentSource,
    Customer,
    DeletionRequest,
    DeletionStatus,
    User,
)

# ---------------------------------------------------------------- the customer's own record


def _check_self(actor: User, customer: Customer) -> None:
    """Portal writes: only the login linked to this very record."""
    if not (actor.is_authenticated and actor.is_active and customer.user_id == actor.pk):
        raise NotAllowed("You can only change your own account.")


@transaction.atomic
def customer_profile_update(*, actor: User, customer: Customer, **fields: Any) -> Customer:
    """A customer edits their contact details (Customer.SELF_EDITABLE_FIELDS only)."""
    _check_self(actor, customer)
    unknown = set(fields) - set(Customer.SELF_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"You cannot change: {', '.join(sorted(unknown))}.")
    if "name" in fields and not (fields["name"] or "").strip():
        raise ValidationFailed("Please give your name.", field="name")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    for key, value in fields.items():
        setattr(locked, key, value.strip() if isinstance(value, str) else value)
    locked.save(update_fields=[*fields, "updated_at"])
    return locked


@transaction.atomic
def customer_preferences_set(
    *,
    actor: User,
    customer: Customer,
    newsletter: bool,
    source: str = ConsentSource.PORTAL,
    **channels: bool,
) -> Customer:
    """Set the channels a customer may be contacted on and their newsletter consent. A
    change of consent is stamped with its moment and kept as a ConsentChange row."""
    _check_self(actor, customer)
    unknown = set(channels) - set(Customer.CHANNEL_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown channels: {', '.join(sorted(unknown))}.")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    for key, value in channels.items():
        setattr(locked, key, bool(value))
    changed = ["updated_at", *channels]
    if bool(newsletter) != locked.newsletter_consent:
        now = timezone.now()
        locked.newsletter_consent = bool(newsletter)
        locked.newsletter_consent_at = now
        changed += ["newsletter_consent", "newsletter_consent_at"]
        ConsentChange.objects.create(
            customer=locked,
            newsletter=bool(newsletter),
            changed_at=now,
            changed_by=actor,
            source=source,
        )
    locked.save(update_fields=changed)
    return locked


@transaction.atomic
def deletion_request_create(
    *, actor: User, customer: Customer, reason: str = ""
) -> DeletionRequest:
    """The customer asks for their account to be deleted; staff confirm it later."""
    _check_self(actor, customer)
    Customer.objects.select_for_update().get(pk=customer.pk)  # one request at a time
    if DeletionRequest.objects.filter(customer=customer, status=DeletionStatus.PENDING).exists():
        raise Conflict("You have already asked for your account to be deleted.")
    return DeletionRequest.objects.create(
        customer=customer, requested_by=actor, reason=(reason or "").strip()[:2000]
    )


def _decide(request: DeletionRequest, status: str, actor: User, note: str) -> DeletionRequest:
    locked = DeletionRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != DeletionStatus.PENDING:
        raise Conflict(f"This request is already {locked.get_status_display().lower()}.")
    locked.status = status
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.decision_note = (note or "").strip()[:500]
    locked.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    return locked


@transaction.atomic
def deletion_request_withdraw(*, actor: User, request: DeletionRequest) -> DeletionRequest:
    _check_self(actor, request.customer)
    return _decide(request, DeletionStatus.WITHDRAWN, actor, "Withdrawn by the customer.")


@transaction.atomic
def deletion_request_refuse(*, actor: User, request: DeletionRequest, note: str) -> DeletionRequest:
    if not actor.is_admin:
        raise NotAllowed("Only an admin may decide on a deletion request.")
    if not (note or "").strip():
        raise ValidationFailed("Say why the request is refused.", field="note")
    return _decide(request, DeletionStatus.REFUSED, actor, note)


@transaction.atomic
def deletion_request_complete(
    *, actor: User, request: DeletionRequest, note: str = ""
) -> DeletionRequest:
    """Anonymise the customer and close their login. Purchases, loyalty and community rows
    keep pointing at the (now anonymous) record, so the books and totals still add up."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin may decide on a deletion request.")
    done = _decide(request, DeletionStatus.COMPLETED, actor, note)
    customer = Customer.objects.select_for_update().get(pk=request.customer_id)
    login = customer.user
    customer.name = f"Deleted customer {customer.pk}"
    for name in ("email", "phone", "company", "address"):
        setattr(customer, name, "")
    for name in Customer.CHANNEL_FIELDS:
        setattr(customer, name, False)
    if customer.newsletter_consent:
        ConsentChange.objects.create(
            customer=customer, newsletter=False, changed_by=actor, source=ConsentSource.DELETION
        )
    customer.newsletter_consent = False
    customer.newsletter_consent_at = timezone.now()
    customer.user = None
    customer.save()
    customer.tags.clear()
    if login is not None:
        login.username = f"deleted-{login.pk}"
        login.first_name = login.last_name = login.email = ""
        login.is_active = False
        login.set_unusable_password()
        login.save()
    return done
