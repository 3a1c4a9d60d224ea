"""Customer rows: preloaded, cleaned by the services' own rules, written in batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower

from ..errors import ValidationFailed
from ..hooks import defection_import
from ..models import (
    AccountManagerAssignment,
    Customer,
    CustomerKind,
    CustomerStatus,
    ImportJob,
    Segment,
    Stage,
    Tag,
    User,
)
from ..services import MARK_DEFECTED_HINT, check_account_manager, validate_customer_fields
from .files import DEFECTION_COLUMNS
from .values import (
    BATCH_SIZE,
    check_length,
    chunks,
    field_max_length,
    parse_choice,
    parse_date,
)


class CustomerImporter:
    """Rows become customers as customer_create makes them: same field rules, an
    account manager must be active, the first assignment is recorded. A defected row
    also says why the customer left: its defection columns go to the defection handler
    another app provides (customers.hooks), which writes the defection with the customer."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.segments: dict[str, Segment] = {}
        self.managers: dict[str, User] = {}
        self.tag_names: set[str] = set()
        self.lengths = {
            c: field_max_length(Customer, c) for c in ("name", "email", "phone", "company")
        }
        self.tag_length = field_max_length(Tag, "name")
        self.defections = defection_import()

    def preload(self, rows: Iterable[dict[str, str]]) -> None:
        segment_names: set[str] = set()
        usernames: set[str] = set()
        for row in rows:
            segment_names.add(row.get("segment", "").lower())
            usernames.add(row.get("account_manager", ""))
        for chunk in chunks(sorted(segment_names - {""})):
            for segment in Segment.objects.annotate(lname=Lower("name")).filter(lname__in=chunk):
                self.segments[segment.lname] = segment
        for chunk in chunks(sorted(usernames - {""})):
            self.managers.update({u.username: u for u in User.objects.filter(username__in=chunk)})
        if self.defections is not None:
            self.defections.preload()

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "name": row.get("name", ""),
            "kind": parse_choice(row.get("kind", ""), CustomerKind, CustomerKind.PERSON),
            "stage": parse_choice(row.get("stage", ""), Stage, Stage.PROSPECT),
            "status": parse_choice(row.get("status", ""), CustomerStatus, CustomerStatus.ACTIVE),
        }
        validate_customer_fields(fields)
        for column, max_length in self.lengths.items():
            fields[column] = row.get(column, "")
            check_length(column, fields[column], max_length)
        fields["address"] = row.get("address", "")
        if fields["email"]:
            try:
                validate_email(fields["email"])
            except ValidationError as exc:
                raise ValidationFailed(
                    f"{fields['email']!r} is not an e-mail address.", field="email"
                ) from exc
        segment_name = row.get("segment", "")
        fields["segment"] = None
        if segment_name:
            fields["segment"] = self.segments.get(segment_name.lower())
            if fields["segment"] is None:
                raise ValidationFailed(
                    f"There is no segment called {segment_name!r}; an admin creates segments "
                    "first.",
                    field="segment",
                )
        acquired = row.get("acquired_on", "")
        fields["acquired_on"] = parse_date(acquired, "acquired_on") if acquired else None
        username = row.get("account_manager", "")
        fields["account_manager"] = None
        if username:
            manager = self.managers.get(username)
            if manager is None:
                raise ValidationFailed(f"There is no user {username!r}.", field="account_manager")
            check_account_manager(manager)
            fields["account_manager"] = manager
        tags = sorted({t.strip() for t in row.get("tags", "").split(";") if t.strip()})
        for tag in tags:
            check_length("tags", tag, self.tag_length)
        fields["tags"] = tags
        fields["defection"] = self._clean_defection(row, fields)
        return fields

    def _clean_defection(self, row: dict[str, str], fields: dict[str, Any]) -> object:
        """What the defection handler made of a defected row's columns; None otherwise."""
        if fields["status"] != CustomerStatus.DEFECTED:
            for column in DEFECTION_COLUMNS:
                if row.get(column, ""):
                    raise ValidationFailed(
                        f"{column} is only for a customer whose status is defected.",
                        field=column,
                    )
            return None
        if self.defections is None:
            raise ValidationFailed(MARK_DEFECTED_HINT, field="status")
        return self.defections.clean(row, fields)

    def accept(self, fields: dict[str, Any], line: int) -> None:
        self.tag_names.update(fields["tags"])

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        tag_ids: dict[str, int] = {}
        if self.tag_names:
            names = sorted(self.tag_names)
            Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
            for chunk in chunks(names):
                tag_ids.update(Tag.objects.filter(name__in=chunk).values_list("name", "id"))
        reason = f"Assigned when the customer was imported from {self.job.filename}."[:300]
        through = Customer.tags.through
        count = 0
        for batch in chunks(rows, BATCH_SIZE):
            tag_lists = [fields.pop("tags") for fields in batch]
            defections = [fields.pop("defection") for fields in batch]
            customers = Customer.objects.bulk_create([Customer(**fields) for fields in batch])
            defected = [(c, d) for c, d in zip(customers, defections, strict=True) if d is not None]
            if defected and self.defections is not None:
                self.defections.write(actor=self.job.created_by, rows=defected)
            # The first assignment is recorded like customer_create records it.
            AccountManagerAssignment.objects.bulk_create(
                [
                    AccountManagerAssignment(
                        customer=c,
                        account_manager=c.account_manager,
                        reason=reason,
                        changed_by=self.job.created_by,
                    )
                    for c in customers
                    if c.account_manager_id
                ]
            )
            through.objects.bulk_create(
                [
                    through(customer_id=c.pk, tag_id=tag_ids[name])
                    for c, tags in zip(customers, tag_lists, strict=True)
                    for name in tags
                ]
            )
            count += len(customers)
        return count
