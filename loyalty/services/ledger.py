"""The points ledger's primitives: lot dates, row locks, credits and debits.

Callers lock the memberships first (lock_membership, or lock_memberships in pk order)
and then move points with credit and debit; idempotency keys are unique in the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from customers.dates import add_months
from customers.formatting import number

from ..errors import InsufficientPoints
from ..models import ExpiryPolicy, LedgerEntry, Membership, Program
from ._common import local_today


def lot_dates(program: Program, earned_on: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """(pending_until, expires_on) for points earned on `earned_on`. Points expire on the
    morning of `expires_on`: the nightly run of that date takes them."""
    pending_until = (
        earned_on + dt.timedelta(days=program.pending_days) if program.pending_days else None
    )
    if program.expiry_policy == ExpiryPolicy.MONTHS_AFTER_EARNING:
        expires_on = add_months(earned_on, program.expiry_months or 0)
    elif program.expiry_policy == ExpiryPolicy.END_OF_YEAR:
        expires_on = dt.date(earned_on.year + 1, 1, 1)
    else:
        expires_on = None
    return pending_until, expires_on


def lot_date_sql(program: Program, day_sql: str) -> tuple[str, str]:
    """SQL for (pending_until, expires_on) of a lot earned on `day_sql`, as lot_dates()."""
    pg = connection.vendor == "postgresql"
    if program.pending_days:
        pending = (
            f"(({day_sql}) + {int(program.pending_days)})"
            if pg
            else f"date({day_sql}, '+{int(program.pending_days)} days')"
        )
        pending = f"CASE WHEN {pending} > %s THEN {pending} ELSE NULL END"
    else:
        pending = "NULL"
    if program.expiry_policy == ExpiryPolicy.MONTHS_AFTER_EARNING:
        months = int(program.expiry_months or 0)
        expires = (
            f"(({day_sql}) + interval '{months} months')::date"
            if pg
            else f"date({day_sql}, '+{months} months')"
        )
    elif program.expiry_policy == ExpiryPolicy.END_OF_YEAR:
        expires = (
            f"make_date(extract(year from ({day_sql}))::int + 1, 1, 1)"
            if pg
            else f"date({day_sql}, 'start of year', '+1 year')"
        )
    else:
        expires = "NULL"
    return pending, expires


def lock_membership(membership: Membership) -> Membership:
    return (
        Membership.objects.select_related("program", "tier", "customer")
        .select_for_update(of=("self",))
        .get(pk=membership.pk)
    )


def lock_memberships(ids: Iterable[int]) -> dict[int, Membership]:
    rows = (
        Membership.objects.select_related("program", "tier")
        .select_for_update(of=("self",))
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )
    return {m.pk: m for m in rows}


def credit(
    *,
    membership: Membership,
    points: int,
    kind: str,
    key: str,
    earned_on: dt.date,
    reason: str = "",
    pending: bool = True,
    **links,
) -> LedgerEntry | None:
    """Add a lot. Returns None when the key was already used (the points exist already).
    The caller holds the membership's lock."""
    pending_until, expires_on = lot_dates(membership.program, earned_on)
    if not pending or (pending_until is not None and pending_until <= local_today()):
        pending_until = None
    entry = LedgerEntry(
        membership=membership,
        kind=kind,
        points=points,
        remaining=points,
        idempotency_key=key[:120],
        effective_on=earned_on,
        pending_until=pending_until,
        expires_on=expires_on,
        reason=reason[:500],
        **links,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        if LedgerEntry.objects.filter(
            membership=membership, idempotency_key=entry.idempotency_key
        ).exists():
            return None
        raise
    if pending_until is None:
        Membership.objects.filter(pk=membership.pk).update(balance=F("balance") + points)
        membership.balance += points
    else:
        Membership.objects.filter(pk=membership.pk).update(
            pending_points=F("pending_points") + points
        )
        membership.pending_points += points
    return entry


def _consume(membership: Membership, points: int) -> None:
    """Take `points` from the oldest available lots. The caller holds the lock."""
    lots = list(
        LedgerEntry.objects.filter(
            membership=membership, remaining__gt=0, pending_until__isnull=True
        )
        .order_by("effective_on", "id")
        .only("id", "remaining")
    )
    left = points
    touched = []
    for lot in lots:
        if left == 0:
            break
        take = min(left, lot.remaining)
        lot.remaining -= take
        left -= take
        touched.append(lot)
    if left:
        # The lots and the balance disagree: refuse rather than spend points nobody has.
        raise InsufficientPoints("The points ledger does not cover this; run loyalty_audit.")
    LedgerEntry.objects.bulk_update(touched, ["remaining"])


def debit(
    *, membership: Membership, points: int, kind: str, key: str, reason: str = "", **links
) -> LedgerEntry:
    if membership.balance < points:
        raise InsufficientPoints(
            f"Not enough {membership.program.points_name}: {number(membership.balance)} available, "
            f"{number(points)} needed.",
            field="points",
        )
    _consume(membership, points)
    entry = LedgerEntry(
        membership=membership,
        kind=kind,
        points=-points,
        idempotency_key=key[:120],
        effective_on=local_today(),
        reason=reason[:500],
        **links,
    )
    entry.save()
    Membership.objects.filter(pk=membership.pk).update(balance=F("balance") - points)
    membership.balance -= points
    return entry


def existing_entry(membership: Membership, key: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(membership=membership, idempotency_key=key[:120]).first()
