"""Customer rows: preloaded, cleaned by the services' own rules, matched to an existing
customer (on external id or e-mail, as the job says) and written in batches: new
customers created, matched ones updated."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone

from ..errors import ValidationFailed
from ..hooks import defection_import
from ..models import (
    AccountManagerAssignment,
    Customer,
    CustomerKind,
    CustomerStatus,
    ImportJob,
    ImportMatch,
    Segment,
    Stage,
    StageChange,
    Tag,
    User,
)
from ..services import (
    MARK_DEFECTED_HINT,
    check_account_manager,
    validate_customer_fields,
)
from .files import DEFECTION_COLUMNS
from .values import (
    BATCH_SIZE,
    check_length,
    chunks,
    collect,
    field_max_length,
    parse_choice,
    parse_date,
    row_failure,
)

# The customer's own columns an update writes when the cell is not blank.
UPDATED_FIELDS = Customer.EDITABLE_FIELDS


class CustomerImporter:
    """Rows become customers as customer_create makes them: same field rules, an
    account manager must be active, the first assignment is recorded. A defected row
    also says why the customer left: its defection columns go to the defection handler
    another app provides (customers.hooks), which writes the defection with the customer.

    With a match (ImportMatch), a row whose external id (or e-mail) belongs to a customer
    updates that customer instead: its non-blank cells replace the fields, its tags are
    added, a new account manager is recorded as a reassignment. So importing the same
    file twice creates nothing the second time."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.match = job.match_on
        self.segments: dict[str, Segment] = {}
        self.managers: dict[str, User] = {}
        self.by_external_id: dict[str, Customer] = {}
        self.by_email: dict[str, list[Customer]] = defaultdict(list)
        self.tag_names: set[str] = set()
        self.lengths = {
            c: field_max_length(Customer, c)
            for c in ("name", "email", "phone", "company", "external_id")
        }
        self.tag_length = field_max_length(Tag, "name")
        self.defections = defection_import()
        self.seen: dict[tuple[str, str], int] = {}
        self.creates = 0
        self.updates = 0

    def preload(self, rows: Iterable[dict[str, str]]) -> None:
        segment_names: set[str] = set()
        usernames: set[str] = set()
        external_ids: set[str] = set()
        emails: set[str] = set()
        for row in rows:
            segment_names.add(row.get("segment", "").lower())
            usernames.add(row.get("account_manager", ""))
            external_ids.add(row.get("external_id", ""))
            emails.add(row.get("email", "").lower())
        for chunk in chunks(sorted(segment_names - {""})):
            for segment in Segment.objects.annotate(lname=Lower("name")).filter(lname__in=chunk):
                self.segments[segment.lname] = segment
        for chunk in chunks(sorted(usernames - {""})):
            self.managers.update({u.username: u for u in User.objects.filter(username__in=chunk)})
        # Every mode needs the external ids already taken (they are unique when set).
        for chunk in chunks(sorted(external_ids - {""})):
            self.by_external_id.update(
                {c.external_id: c for c in Customer.objects.filter(external_id__in=chunk)}
            )
        if self.match == ImportMatch.EMAIL:
            for chunk in chunks(sorted(emails - {""})):
                for found in Customer.objects.annotate(lemail=Lower("email")).filter(
                    lemail__in=chunk
                ):
                    self.by_email[found.lemail].append(found)
        if self.defections is not None:
            self.defections.preload()

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        errors: list[ValidationFailed] = []
        fields: dict[str, Any] = {
            "name": row.get("name", ""),
            "kind": parse_choice(row.get("kind", ""), CustomerKind, CustomerKind.PERSON),
            "stage": parse_choice(row.get("stage", ""), Stage, Stage.PROSPECT),
            "status": parse_choice(row.get("status", ""), CustomerStatus, CustomerStatus.ACTIVE),
        }
        for name in ("name", "kind", "stage", "status"):
            collect(errors, validate_customer_fields, {name: fields[name]})
        for column, max_length in self.lengths.items():
            fields[column] = row.get(column, "")
            collect(errors, check_length, column, fields[column], max_length)
        fields["address"] = row.get("address", "")
        if fields["email"]:
            collect(errors, lambda: self._check_email(fields["email"]))
        fields["segment"] = collect(errors, lambda: self._segment(row.get("segment", "")))
        acquired = row.get("acquired_on", "")
        fields["acquired_on"] = (
            collect(errors, lambda: parse_date(acquired, "acquired_on")) if acquired else None
        )
        fields["account_manager"] = collect(
            errors, lambda: self._manager(row.get("account_manager", ""))
        )
        tags = sorted({t.strip() for t in row.get("tags", "").split(";") if t.strip()})
        for tag in tags:
            collect(errors, check_length, "tags", tag, self.tag_length)
        fields["tags"] = tags
        target = collect(errors, lambda: self._target(fields))
        fields["defection"] = collect(errors, lambda: self._clean_defection(row, fields))
        if errors:
            raise row_failure(errors)
        fields["target"] = target
        # Which cells the file filled: an update leaves a blank cell's field as it is.
        fields["given"] = {c for c, v in row.items() if v}
        return fields

    @staticmethod
    def _check_email(email: str) -> None:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationFailed(f"{email!r} is not an e-mail address.", field="email") from exc

    def _segment(self, name: str) -> Segment | None:
        if not name:
            return None
        segment = self.segments.get(name.lower())
        if segment is None:
            raise ValidationFailed(
                f"There is no segment called {name!r}; an admin creates segments first.",
                field="segment",
            )
        return segment

    def _manager(self, username: str) -> User | None:
        if not username:
            return None
        manager = self.managers.get(username)
        if manager is None:
            raise ValidationFailed(f"There is no user {username!r}.", field="account_manager")
        check_account_manager(manager)
        return manager

    def _target(self, fields: dict[str, Any]) -> Customer | None:
        """The existing customer this row updates, or None when it creates one."""
        external_id, email = fields["external_id"], fields["email"]
        owner = self.by_external_id.get(external_id) if external_id else None
        if self.match == ImportMatch.EXTERNAL_ID:
            return owner
        target = None
        if self.match == ImportMatch.EMAIL and email:
            matches = self.by_email.get(email.lower(), [])
            if len(matches) > 1:
                ids = ", ".join(f"#{c.pk}" for c in matches[:5])
                raise ValidationFailed(
                    f"{len(matches)} customers have the e-mail {email} ({ids}); give the "
                    "row an external_id and match on it, or merge them first.",
                    field="email",
                )
            target = matches[0] if matches else None
        if owner is not None and owner != target:
            raise ValidationFailed(
                f"The external id {external_id} belongs to customer #{owner.pk} "
                f"({owner.name}); match on external id to update them.",
                field="external_id",
            )
        return target

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
        """Two lines of one file may not create or update the same customer."""
        target: Customer | None = fields["target"]
        keys = []
        if fields["external_id"]:
            keys.append(("external_id", fields["external_id"]))
        if target is not None:
            keys.append(("customer", str(target.pk)))
        elif self.match == ImportMatch.EMAIL and fields["email"]:
            keys.append(("email", fields["email"].lower()))
        for column, value in keys:
            first = self.seen.get((column, value))
            if first is not None:
                what = f"customer #{value}" if column == "customer" else f"{column} {value}"
                raise ValidationFailed(
                    f"Line {first} of this file already has {what}.",
                    field="email" if column == "email" else "external_id",
                )
        for key in keys:
            self.seen[key] = line
        self.tag_names.update(fields["tags"])
        if target is None:
            self.creates += 1
        else:
            self.updates += 1

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        self.tag_ids: dict[str, int] = {}
        if self.tag_names:
            names = sorted(self.tag_names)
            Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
            for chunk in chunks(names):
                self.tag_ids.update(Tag.objects.filter(name__in=chunk).values_list("name", "id"))
        count = 0
        self.creates = self.updates = 0
        for batch in chunks(rows, BATCH_SIZE):
            new = [fields for fields in batch if fields["target"] is None]
            self._create(new)
            self._update([fields for fields in batch if fields["target"] is not None])
            count += len(batch)
        return count

    def _tag_rows(self, pairs: Iterable[tuple[Customer, list[str]]]) -> None:
        through = Customer.tags.through
        through.objects.bulk_create(
            [
                through(customer_id=c.pk, tag_id=self.tag_ids[name])
                for c, tags in pairs
                for name in tags
            ],
            ignore_conflicts=True,
        )

    def _create(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        reason = f"Assigned when the customer was imported from {self.job.filename}."[:300]
        tag_lists = [fields["tags"] for fields in batch]
        defections = [fields["defection"] for fields in batch]
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    **{k: v for k, v in fields.items() if k in Customer.EDITABLE_FIELDS},
                    account_manager=fields["account_manager"],
                )
                for fields in batch
            ]
        )
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
        self._tag_rows(zip(customers, tag_lists, strict=True))
        self.creates += len(customers)

    def _update(self, batch: list[dict[str, Any]]) -> None:
        """Matched customers, locked, take the row's non-blank cells."""
        if not batch:
            return
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=[fields["target"].pk for fields in batch])
            .order_by("pk")
        }
        now = timezone.now()
        reason = f"Reassigned by the import of {self.job.filename}."[:300]
        changed: set[str] = {"updated_at"}
        moved: list[Customer] = []
        climbs: list[StageChange] = []
        defected: list[tuple[Customer, object]] = []
        for fields in batch:
            customer = locked[fields["target"].pk]
            was_defected = customer.status == CustomerStatus.DEFECTED
            if "stage" in fields["given"] and fields["stage"] != customer.stage:
                climbs.append(
                    StageChange(
                        customer=customer,
                        from_stage=customer.stage,
                        to_stage=fields["stage"],
                        changed_by=self.job.created_by,
                        reason=f"Imported from {self.job.filename}."[:300],
                    )
                )
            for name in UPDATED_FIELDS:
                if name in fields["given"]:
                    setattr(customer, name, fields[name])
                    changed.add(name)
            manager = fields["account_manager"]
            if manager is not None and manager.pk != customer.account_manager_id:
                customer.account_manager = manager
                changed.add("account_manager")
                moved.append(customer)
            customer.updated_at = now
            if fields["defection"] is not None and not was_defected:
                defected.append((customer, fields["defection"]))
        Customer.objects.bulk_update(list(locked.values()), sorted(changed))
        StageChange.objects.bulk_create(climbs)
        if moved:
            AccountManagerAssignment.objects.filter(
                customer__in=moved, ended_at__isnull=True
            ).update(ended_at=now)
            AccountManagerAssignment.objects.bulk_create(
                [
                    AccountManagerAssignment(
                        customer=c,
                        account_manager=c.account_manager,
                        started_at=now,
                        reason=reason,
                        changed_by=self.job.created_by,
                    )
                    for c in moved
                ]
            )
        if defected and self.defections is not None:
            self.defections.write(actor=self.job.created_by, rows=defected)
        self._tag_rows((locked[f["target"].pk], f["tags"]) for f in batch)
        self.updates += len(batch)
