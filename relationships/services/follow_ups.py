"""Writes on follow-ups: adding one on its own, moving its date, handing it to someone
else (admins), and marking it done. A follow-up asked for while logging an interaction is
made by `interaction_log` through `follow_up_add`."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import Customer, Role, User
from customers.selectors import customers_visible_to
from customers.templatetags.keep_format import day

from ..models import FollowUp

# Further out than this is almost always a typo in the year (2062 for 2026).
MAX_DAYS_AHEAD = 731
WHAT_MAX = 200
NOTE_MAX = 2000


def check_due_on(due_on: dt.date | None, *, field: str = "due_on", earliest: dt.date) -> dt.date:
    """A due date from `earliest` to two years from today."""
    if due_on is None:
        raise ValidationFailed("Say by which day it is due.", field=field)
    today = timezone.localdate()
    if due_on < earliest:
        raise ValidationFailed(
            "A follow-up cannot be due in the past; choose today or a later day."
            if earliest == today
            else f"A follow-up cannot be due before {day(earliest)}; choose that day or later.",
            field=field,
        )
    latest = today + dt.timedelta(days=MAX_DAYS_AHEAD)
    if due_on > latest:
        raise ValidationFailed(
            f"Choose a day up to two years ahead (by {day(latest)}).", field=field
        )
    return due_on


def _clean_text(value: str, *, field: str, limit: int, required: bool, missing: str) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationFailed("The text contains a null character; remove it.", field=field)
    if required and not value:
        raise ValidationFailed(missing, field=field)
    if len(value) > limit:
        raise ValidationFailed(f"Keep it under {limit:,} characters.", field=field)
    return value


def _default_assignee(customer: Customer, actor: User) -> User:
    manager = customer.account_manager
    if manager is not None and manager.is_account_manager:
        return manager
    return actor


def _check_assignee(*, actor: User, assignee: User, default: User) -> User:
    """The customer's manager by default; only an admin hands it to someone else, and only
    to an active account manager or admin."""
    if assignee.pk == default.pk:
        return assignee
    if not actor.is_admin:
        raise NotAllowed(
            "Only an admin assigns a follow-up to someone other than the customer's manager.",
            field="assignee",
        )
    if not assignee.is_active or assignee.role not in {Role.ACCOUNT_MANAGER, Role.ADMIN}:
        raise ValidationFailed(
            f"{assignee} is not an active account manager or admin; choose someone who is.",
            field="assignee",
        )
    return assignee


def _check_staff_on(actor: User, customer_id: int) -> None:
    if not actor.is_staff_member:
        raise NotAllowed("Only staff work on follow-ups.")
    if not customers_visible_to(actor).filter(pk=customer_id).exists():
        raise NotAllowed("This customer is not in your book.")


def _check_may_work_on(actor: User, follow_up: FollowUp) -> None:
    """Its assignee, the customer's manager, or an admin."""
    if actor.is_staff_member and follow_up.assignee_id == actor.pk:
        return
    _check_staff_on(actor, follow_up.customer_id)


def follow_up_add(
    *,
    actor: User,
    customer: Customer,
    due_on: dt.date | None,
    what: str,
    assignee: User | None = None,
    interaction=None,
    earliest: dt.date | None = None,
) -> FollowUp:
    """Add a follow-up on a customer of the actor's book, due today or later. Called inside
    `interaction_log`'s transaction too (joins it)."""
    with transaction.atomic():
        _check_staff_on(actor, customer.pk)
        what = _clean_text(
            what, field="what", limit=WHAT_MAX, required=True, missing="Say what is to be done."
        )
        due_on = check_due_on(due_on, earliest=earliest or timezone.localdate())
        default = _default_assignee(customer, actor)
        assignee = _check_assignee(actor=actor, assignee=assignee or default, default=default)
        return FollowUp.objects.create(
            customer=customer,
            assignee=assignee,
            due_on=due_on,
            what=what,
            interaction=interaction,
            created_by=actor,
        )


def _locked_open(follow_up: FollowUp) -> FollowUp:
    locked = FollowUp.objects.select_for_update().select_related("customer").get(pk=follow_up.pk)
    if locked.done_at is not None:
        raise Conflict("This follow-up is already done.")
    return locked


@transaction.atomic
def follow_up_reschedule(*, actor: User, follow_up: FollowUp, due_on: dt.date | None) -> FollowUp:
    """Move an open follow-up to another day (today or later)."""
    _check_may_work_on(actor, follow_up)
    locked = _locked_open(follow_up)
    locked.due_on = check_due_on(due_on, earliest=timezone.localdate())
    locked.save(update_fields=["due_on"])
    return locked


@transaction.atomic
def follow_up_reassign(*, actor: User, follow_up: FollowUp, assignee: User | None) -> FollowUp:
    """Hand an open follow-up to another active account manager or admin (admins only)."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin reassigns a follow-up.", field="assignee")
    if assignee is None:
        raise ValidationFailed("Choose who takes it over.", field="assignee")
    locked = _locked_open(follow_up)
    locked.assignee = _check_assignee(actor=actor, assignee=assignee, default=locked.assignee)
    locked.save(update_fields=["assignee"])
    return locked


@transaction.atomic
def follow_up_complete(*, actor: User, follow_up: FollowUp, note: str = "") -> FollowUp:
    """Mark a follow-up done, with what came of it. Doing it twice changes nothing."""
    _check_may_work_on(actor, follow_up)
    note = _clean_text(note, field="note", limit=NOTE_MAX, required=False, missing="")
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if locked.done_at is None:
        locked.done_at = timezone.now()
        locked.done_by = actor
        locked.done_note = note
        locked.save(update_fields=["done_at", "done_by", "done_note"])
    return locked
