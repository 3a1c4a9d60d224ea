"""Points moved by staff: manual adjustments, and refunds taking a purchase's points back."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import F

from customers.errors import Conflict, ValidationFailed
from customers.formatting import number
from customers.models import Purchase, User

from ..models import EntryKind, LedgerEntry, Membership
from ._common import check_staff_for, clean_key, local_today
from .ledger import credit, debit, existing_entry, lock_membership, lock_memberships

MAX_ADJUSTMENT = 100_000_000


@transaction.atomic
def points_adjust(
    *,
    membership: Membership,
    points: int,
    reason: str,
    actor: User,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """A manual correction by staff: a reason is required and the actor is recorded."""
    check_staff_for(actor, membership.customer)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the points are adjusted.", field="reason")
    try:
        points = int(points)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("Points must be a whole number.", field="points") from exc
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise ValidationFailed(
            f"Points must be non-zero and at most {MAX_ADJUSTMENT:,} either way.", field="points"
        )
    key = "adjust:" + (clean_key(idempotency_key) if idempotency_key else uuid.uuid4().hex)
    locked = lock_membership(membership)
    existing = existing_entry(locked, key)
    if existing:
        return existing
    if points > 0:
        credited = credit(
            membership=locked,
            points=points,
            kind=EntryKind.ADJUST,
            key=key,
            earned_on=local_today(),
            reason=reason,
            pending=False,
            actor=actor,
        )
        if credited is None:
            # credit() found the key taken; under the lock, after the look-up above, it cannot.
            raise Conflict("This adjustment was recorded twice at once; reload and check.")
        entry = credited
    else:
        entry = debit(
            membership=locked,
            points=-points,
            kind=EntryKind.ADJUST,
            key=key,
            reason=reason,
            actor=actor,
        )
    membership.balance = locked.balance
    return entry


@transaction.atomic
def points_reverse_for_purchase(
    *, purchase: Purchase, actor: User, reason: str = ""
) -> list[LedgerEntry]:
    """A refunded purchase gives its points back. Points of the purchase that were already
    spent stay spent (the balance may never go negative); the reason says how many."""
    check_staff_for(actor, purchase.customer)
    lots = list(LedgerEntry.objects.filter(purchase=purchase, kind=EntryKind.EARN))
    locked = lock_memberships(lot.membership_id for lot in lots)
    reversals = []
    # Which lots were reversed already, in one query rather than one per lot.
    done = set(
        LedgerEntry.objects.filter(
            membership__in=list(locked), idempotency_key__in=[f"reverse:{lot.pk}" for lot in lots]
        ).values_list("membership_id", "idempotency_key")
    )
    for lot in LedgerEntry.objects.filter(pk__in=[lot.pk for lot in lots]).order_by("pk"):
        membership = locked[lot.membership_id]
        key = f"reverse:{lot.pk}"
        if (membership.pk, key) in done:
            continue
        text = (reason or "").strip() or f"Purchase {purchase.reference} refunded."
        if lot.pending_until is not None:
            amount = lot.points
            entry = LedgerEntry(
                membership=membership,
                kind=EntryKind.REVERSE,
                points=-amount,
                idempotency_key=key,
                pending_until=lot.pending_until,
                purchase=purchase,
                reversed_entry=lot,
                actor=actor,
                reason=text,
            )
            entry.save()
            LedgerEntry.objects.filter(pk=lot.pk).update(remaining=0)
            # The pending pair nets to zero when released; pending points drop now.
            Membership.objects.filter(pk=membership.pk).update(
                pending_points=F("pending_points") - amount
            )
            reversals.append(entry)
            continue
        amount = lot.remaining
        spent = lot.points - amount
        if amount == 0:
            continue
        if spent:
            text += (
                f" {number(spent)} of its points {'was' if spent == 1 else 'were'} already spent."
            )
        LedgerEntry.objects.filter(pk=lot.pk).update(remaining=0)
        entry = LedgerEntry(
            membership=membership,
            kind=EntryKind.REVERSE,
            points=-amount,
            idempotency_key=key,
            purchase=purchase,
            reversed_entry=lot,
            actor=actor,
            reason=text,
        )
        entry.save()
        Membership.objects.filter(pk=membership.pk).update(balance=F("balance") - amount)
        reversals.append(entry)
    return reversals
