"""Marking a customer defected, with the reason why: one customer at a time (the customer
page, the API, the admin) or the defected rows of a customer import. Both check a
defection by the one rule below, `defection_clean`; a status field alone never makes a
customer defected (customers.services refuses it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.imports.values import parse_date
from customers.models import Customer, CustomerStatus, User
from customers.selectors import customers_visible_to
from customers.services import customer_status_defected

from ..models import Defection, DefectionReason
from ..selectors.defections import latest_defection

EXIT_NOTES_MAX = 20_000


def defection_clean(
    *,
    reason: DefectionReason | None,
    defected_on: dt.date | None,
    exit_interview_notes: str,
    acquired_on: dt.date | None,
) -> tuple[DefectionReason, dt.date, str]:
    """The reason (required, from the active taxonomy), the day (today by default, never
    in the future nor before the customer was acquired) and the optional exit note."""
    if reason is None:
        raise ValidationFailed("Choose why the customer left.", field="reason")
    if not reason.is_active:
        raise ValidationFailed(
            f"“{reason}” is no longer in use; choose one of the current reasons.", field="reason"
        )
    today = timezone.localdate()
    defected_on = defected_on or today
    if defected_on > today:
        raise ValidationFailed("A defection cannot be in the future.", field="defected_on")
    if acquired_on is not None and defected_on < acquired_on:
        raise ValidationFailed(
            f"The customer was acquired on {acquired_on:%Y-%m-%d}; they cannot have left "
            "before that.",
            field="defected_on",
        )
    notes = (exit_interview_notes or "").strip()
    if len(notes) > EXIT_NOTES_MAX:
        raise ValidationFailed(
            f"The exit-interview notes can be at most {EXIT_NOTES_MAX:,} characters.",
            field="exit_interview_notes",
        )
    return reason, defected_on, notes


def check_not_already_defected(customer: Customer) -> None:
    """A customer defected with a recorded reason cannot leave again before coming back
    (status changed back by an edit); one defected with no record may get theirs."""
    if customer.status == CustomerStatus.DEFECTED:
        previous = latest_defection(customer)
        if previous is not None:
            raise Conflict(
                f"{customer} was already marked defected on {previous.defected_on:%Y-%m-%d} "
                f"({previous.reason})."
            )


@transaction.atomic
def defection_record(
    *,
    actor: User,
    customer: Customer,
    reason: DefectionReason | None,
    defected_on: dt.date | None = None,
    exit_interview_notes: str = "",
) -> Defection:
    """Record that a customer left and why; the customer's status becomes defected in the
    same transaction. A customer already defected with a recorded reason is a Conflict;
    one made defected before reasons were asked for (no record) gets theirs recorded."""
    if not actor.is_staff_member:
        raise NotAllowed("Only staff record defections.")
    if not customers_visible_to(actor).filter(pk=customer.pk).exists():
        raise NotAllowed("This customer is not in your book.")
    # The lock makes "already defected?" and the write one step for concurrent requests.
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    reason, defected_on, notes = defection_clean(
        reason=reason,
        defected_on=defected_on,
        exit_interview_notes=exit_interview_notes,
        acquired_on=locked.acquired_on,
    )
    check_not_already_defected(locked)
    defection = Defection.objects.create(
        customer=locked,
        reason=reason,
        defected_on=defected_on,
        exit_interview_notes=notes,
        recorded_by=actor,
    )
    customer_status_defected(actor=actor, customer=customer)
    return defection


# Import column -> the rule's field, so a row's error names the column of the file.
_IMPORT_COLUMN = {
    "reason": "defection_reason",
    "defected_on": "defected_on",
    "exit_interview_notes": "exit_interview_notes",
}


@dataclass(frozen=True)
class ImportedDefection:
    reason: DefectionReason
    defected_on: dt.date
    notes: str


class DefectionImportRows:
    """The defection columns of a customer import (customers.hooks.DefectionImport,
    provided in RelationshipsConfig.ready()): each defected row is checked by
    `defection_clean` while the rows are validated, and its defection is written with the
    customer, in the import's one transaction, so no customer is imported defected
    without its reason and no reason without its customer."""

    def __init__(self) -> None:
        self.reasons: dict[str, DefectionReason] = {}
        self.codes = ""

    def preload(self) -> None:
        reasons = list(DefectionReason.objects.all())
        for reason in reasons:
            self.reasons[reason.code.lower()] = reason
            self.reasons[reason.name.lower()] = reason
        self.codes = ", ".join(r.code for r in reasons if r.is_active)

    def clean(self, row: dict[str, str], fields: dict[str, Any]) -> ImportedDefection:
        text = row.get("defection_reason", "")
        if not text:
            raise ValidationFailed(
                f"A defected customer needs a defection_reason: one of {self.codes}.",
                field="defection_reason",
            )
        reason = self.reasons.get(text.lower())
        if reason is None:
            raise ValidationFailed(
                f"There is no defection reason {text!r}; use one of {self.codes}.",
                field="defection_reason",
            )
        day = row.get("defected_on", "")
        try:
            reason, defected_on, notes = defection_clean(
                reason=reason,
                defected_on=parse_date(day, "defected_on") if day else None,
                exit_interview_notes=row.get("exit_interview_notes", ""),
                acquired_on=fields.get("acquired_on"),
            )
        except ValidationFailed as exc:
            raise ValidationFailed(
                exc.message, field=_IMPORT_COLUMN.get(exc.field or "", exc.field)
            ) from exc
        return ImportedDefection(reason, defected_on, notes)

    def write(self, *, actor: User, rows: list[tuple[Customer, object]]) -> None:
        defections = []
        for customer, cleaned in rows:
            assert isinstance(cleaned, ImportedDefection)  # noqa: S101 - what clean() returned
            defections.append(
                Defection(
                    customer=customer,
                    reason=cleaned.reason,
                    defected_on=cleaned.defected_on,
                    exit_interview_notes=cleaned.notes,
                    recorded_by=actor,
                )
            )
        Defection.objects.bulk_create(defections)
