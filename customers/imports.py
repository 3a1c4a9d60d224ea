"""CSV import of customers and purchases: parse, validate every row, then write in one go.

The flow (docs/import.md tells users the same):
1. `import_job_create` checks the file as a whole (size, UTF-8, header, at least one row)
   and stores it as an ImportJob; a bad file is one clear error and nothing is written.
2. `import_job_run` (called by the Celery task or a management command) validates every
   row with a constant number of queries (everything the rows refer to is preloaded),
   moving `processed_rows` as it goes, outside any transaction, so the progress bar moves.
3. The write pass happens in ONE transaction that also sets the job's final status, so a
   crash or a second delivery of the task can never import a file twice or half of it.

Row rules are the services' own (`customers.services` validation helpers); this module
adds only what a CSV needs: parsing text into values and resolving names to rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from .errors import ApplicationError, NotAllowed, ValidationFailed
from .hooks import notify_purchase_recorded
from .models import (
    AccountManagerAssignment,
    Customer,
    CustomerKind,
    CustomerStatus,
    ImportJob,
    ImportKind,
    ImportMode,
    ImportStatus,
    Purchase,
    Role,
    Segment,
    Stage,
    StageChange,
    Tag,
    User,
)
from .selectors import customers_visible_to
from .services import _check_manager, _clean_purchase, _validate_customer_fields

logger = logging.getLogger(__name__)

CUSTOMER_COLUMNS = (
    "name",
    "kind",
    "email",
    "phone",
    "company",
    "address",
    "segment",
    "stage",
    "status",
    "acquired_on",
    "account_manager",
    "tags",
)
CUSTOMER_REQUIRED = ("name",)
PURCHASE_COLUMNS = (
    "customer_id",
    "customer_email",
    "reference",
    "amount",
    "currency",
    "occurred_at",
    "product",
    "category",
)
PURCHASE_REQUIRED = ("reference", "amount", "occurred_at")

COLUMNS = {ImportKind.CUSTOMERS: CUSTOMER_COLUMNS, ImportKind.PURCHASES: PURCHASE_COLUMNS}

TEMPLATES = {
    ImportKind.CUSTOMERS: (
        CUSTOMER_COLUMNS,
        (
            "Nordwind GmbH",
            "organisation",
            "info@nordwind.example",
            "+49 30 1234567",
            "Nordwind GmbH",
            "Hafenstraße 1, Hamburg",
            "",
            "prospect",
            "active",
            "2026-01-15",
            "",
            "wholesale;north",
        ),
    ),
    ImportKind.PURCHASES: (
        PURCHASE_COLUMNS,
        (
            "",
            "info@nordwind.example",
            "INV-2026-0001",
            "1250.00",
            "EUR",
            "2026-02-01T10:30:00+01:00",
            "Annual licence",
            "software",
        ),
    ),
}

# Stored errors are capped so a wholly wrong 50 MB file does not become a 50 MB JSON
# column; the count of the rest is still reported.
MAX_REPORTED_ERRORS = 1000
BATCH_SIZE = 500
# SQLite refuses statements with more than a few thousand parameters.
IN_CHUNK = 900

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be imported (encoding, header, size, emptiness)."""


@dataclass
class RowError:
    line: int
    message: str
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


# ---------------------------------------------------------------- file level


def read_upload(fileobj: BinaryIO) -> bytes:
    """Read at most one byte more than the limit, so a huge upload is refused without
    being read in full."""
    return fileobj.read(settings.CRM_IMPORT_MAX_BYTES + 1)


def _decode(data: bytes) -> str:
    limit = settings.CRM_IMPORT_MAX_BYTES
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise ImportFileError(f"The file is larger than {size}; split it into smaller files.")
    try:
        # utf-8-sig: spreadsheet programs often start the file with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (bad byte at position {exc.start}); "
            "save it as 'CSV UTF-8' and upload it again."
        ) from exc
    if "\x00" in text:
        raise ImportFileError("The file contains NUL bytes: it is not a CSV text file.")
    if not text.strip():
        raise ImportFileError("The file is empty.")
    return text


def _check_header(kind: str, header: list[str]) -> None:
    expected = COLUMNS[kind]
    if not any(header):
        raise ImportFileError("The first line must be the header with the column names.")
    counts = Counter(header)
    doubled = sorted(c for c, n in counts.items() if n > 1)
    if doubled:
        raise ImportFileError(f"Columns appear twice in the header: {', '.join(doubled)}.")
    unknown = [c for c in header if c not in expected]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. Allowed columns: {', '.join(expected)}."
        )
    required = CUSTOMER_REQUIRED if kind == ImportKind.CUSTOMERS else PURCHASE_REQUIRED
    missing = [c for c in required if c not in header]
    if kind == ImportKind.PURCHASES and not {"customer_id", "customer_email"} & set(header):
        missing.insert(0, "customer_id or customer_email")
    if missing:
        raise ImportFileError(f"Missing columns in the header: {', '.join(missing)}.")


Record = tuple[int, dict[str, str] | None, RowError | None]


def _records(kind: str, text: str) -> Iterator[Record]:
    """Yield each row as (line it starts on, values by column, None), or a row with the
    wrong number of fields as (line, None, its error). The header is checked first."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise ImportFileError("The file is empty.")
        header = [h.strip().lower() for h in header_row]
        _check_header(kind, header)
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue  # blank lines are not rows
            if len(values) != len(header):
                message = f"The row has {len(values)} fields but the header has {len(header)}."
                yield start, None, RowError(start, message)
            else:
                yield start, dict(zip(header, (v.strip() for v in values), strict=True)), None
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num}: the CSV is malformed ({exc}).") from exc


def _count_rows(kind: str, text: str) -> int:
    count = sum(1 for _ in _records(kind, text))
    if not count:
        raise ImportFileError("The file has a header but no rows.")
    return count


def template_csv(kind: str) -> str:
    """A header plus one example row, for the download link on the upload page."""
    columns, example = TEMPLATES[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow(example)
    return out.getvalue()


# ---------------------------------------------------------------- jobs


def import_job_create(
    *, actor: User, kind: str, mode: str, filename: str, data: bytes
) -> ImportJob:
    """Check the file as a whole and store it as a job waiting to run. Only admins import:
    an import may assign customers to any account manager."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can import files.")
    if kind not in ImportKind.values:
        raise ValidationFailed(f"Unknown import kind {kind!r}.", field="kind")
    if mode not in ImportMode.values:
        raise ValidationFailed(f"Unknown import mode {mode!r}.", field="mode")
    text = _decode(data)
    total = _count_rows(kind, text)
    return ImportJob.objects.create(
        kind=kind,
        mode=mode,
        filename=(filename or "upload.csv")[:255],
        content=text,
        total_rows=total,
        created_by=actor,
    )


ProgressCallback = Callable[[int], None]


def import_job_run(*, job_id: int, on_progress: ProgressCallback | None = None) -> ImportJob:
    """Validate and import a job. Safe to call twice: a finished job is returned as it is,
    and a job left RUNNING by a crashed worker starts again from the beginning (its writes
    were one transaction, so none of them were kept)."""
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING]
    ).update(status=ImportStatus.RUNNING, processed_rows=0, imported_rows=0, errors=[])
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    try:
        return _run(job, on_progress)
    except Exception as exc:
        # Whatever went wrong, nothing was written (one transaction); the job says so
        # instead of staying RUNNING forever.
        logger.exception("Import job %s failed", job_id)
        message = (
            exc.message
            if isinstance(exc, ApplicationError)
            else "The import stopped on an unexpected error; nothing was imported. "
            "Try again, and tell an operator if it happens again."
        )
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED,
            errors=[{"line": None, "column": None, "message": message}],
            finished_at=timezone.now(),
        )
        return ImportJob.objects.defer("content").get(pk=job_id)


def _run(job: ImportJob, on_progress: ProgressCallback | None) -> ImportJob:
    """Three passes over the text, so memory stays small whatever the file's size:
    collect the keys the rows refer to, validate every row, then (in one transaction)
    clean the good rows again and write them in batches."""
    importer = IMPORTERS[job.kind](job)
    importer.preload(row for _, row, _ in _records(job.kind, job.content) if row is not None)

    step = max(100, job.total_rows // 50)
    done = 0
    errors: list[RowError] = []
    bad_lines: set[int] = set()
    for line, row, error in _records(job.kind, job.content):
        if error is None:
            try:
                importer.accept(importer.clean(row), line)
            except ValidationFailed as exc:
                error = RowError(line, exc.message, exc.field)
        if error is not None:
            bad_lines.add(line)
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(error)
        done += 1
        if on_progress is not None:
            on_progress(done)
        if done % step == 0:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=done)

    rejected = bool(bad_lines) and (job.mode == ImportMode.ALL_OR_NOTHING or done == len(bad_lines))
    with transaction.atomic():
        # The final status commits with the rows: a second run waiting on this lock finds
        # the job finished and writes nothing.
        locked = ImportJob.objects.select_for_update().defer("content").get(pk=job.pk)
        if locked.status != ImportStatus.RUNNING:
            return locked
        imported = 0
        if not rejected:
            good = (
                importer.clean(row)
                for line, row, _ in _records(job.kind, job.content)
                if row is not None and line not in bad_lines
            )
            try:
                imported = importer.write(good)
            except DatabaseError as exc:
                raise ValidationFailed(
                    "The database refused the import (another change clashed with it, such "
                    "as the same purchase recorded meanwhile); nothing was imported. "
                    "Upload the file again."
                ) from exc
        locked.status = ImportStatus.REJECTED if rejected else ImportStatus.DONE
        locked.total_rows = done
        locked.processed_rows = done
        locked.imported_rows = imported
        locked.errors = _report(errors, more=len(bad_lines) - len(errors))
        locked.finished_at = timezone.now()
        locked.save()
    return locked


def _report(errors: list[RowError], *, more: int) -> list[dict[str, Any]]:
    report = [e.as_dict() for e in errors]
    if more > 0:
        report.append({"line": None, "column": None, "message": f"… and {more} more bad rows."})
    return report


def bad_row_count(job: ImportJob) -> int:
    """Bad rows of a finished job (the stored list is capped; its last entry says how many
    more there were)."""
    count = 0
    for entry in job.errors or []:
        if entry.get("line") is not None:
            count += 1
        else:
            match = re.search(r"(\d+) more bad rows", entry.get("message", ""))
            count += int(match.group(1)) if match else 0
    return count


def import_admins() -> list[User]:
    """Active admins, for the commands' default actor."""
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk"))


# ---------------------------------------------------------------- helpers


def _chunks(values: Iterable[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _choice(value: str, choices: type, default: str) -> str:
    """Accept a choice by its value or its label, any case; blank means the default."""
    if not value:
        return default
    lowered = value.lower()
    for choice_value, label in choices.choices:
        if lowered in (choice_value, str(label).lower()):
            return choice_value
    return value  # left as given: the service's validation names it as unknown


def _check_length(column: str, value: str, max_length: int) -> None:
    if len(value) > max_length:
        raise ValidationFailed(
            f"{column} is {len(value)} characters long; at most {max_length} fit.", field=column
        )


def _max_length(model: type, name: str) -> int:
    return model._meta.get_field(name).max_length


def _parse_date(value: str, column: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a date, no time
    except ValueError as exc:
        raise ValidationFailed(f"{value!r} is not a date as YYYY-MM-DD.", field=column) from exc


def _parse_moment(value: str, column: str) -> dt.datetime:
    """ISO 8601 with a time zone, or a bare date meaning midnight where the company is."""
    if DATE_ONLY.match(value):
        day = _parse_date(value, column)
        return dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(
            f"{value!r} is not a date and time (ISO 8601, e.g. 2026-02-01T10:30:00+01:00).",
            field=column,
        ) from exc
    if timezone.is_naive(moment):
        raise ValidationFailed(
            f"{value!r} has no time zone; add one (e.g. +01:00 or Z) or give a date only.",
            field=column,
        )
    return moment


# ---------------------------------------------------------------- customers


class _CustomerImporter:
    """Rows become customers as customer_create makes them: same field rules, an
    account manager must be active, the first assignment is recorded."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.segments: dict[str, Segment] = {}
        self.managers: dict[str, User] = {}
        self.tag_names: set[str] = set()
        self.lengths = {c: _max_length(Customer, c) for c in ("name", "email", "phone", "company")}
        self.tag_length = _max_length(Tag, "name")

    def preload(self, rows: Iterable[dict[str, str]]) -> None:
        segment_names: set[str] = set()
        usernames: set[str] = set()
        for row in rows:
            segment_names.add(row.get("segment", "").lower())
            usernames.add(row.get("account_manager", ""))
        for chunk in _chunks(sorted(segment_names - {""})):
            for segment in Segment.objects.annotate(lname=Lower("name")).filter(lname__in=chunk):
                self.segments[segment.lname] = segment
        for chunk in _chunks(sorted(usernames - {""})):
            self.managers.update({u.username: u for u in User.objects.filter(username__in=chunk)})

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "name": row.get("name", ""),
            "kind": _choice(row.get("kind", ""), CustomerKind, CustomerKind.PERSON),
            "stage": _choice(row.get("stage", ""), Stage, Stage.PROSPECT),
            "status": _choice(row.get("status", ""), CustomerStatus, CustomerStatus.ACTIVE),
        }
        _validate_customer_fields(fields)
        for column, max_length in self.lengths.items():
            fields[column] = row.get(column, "")
            _check_length(column, fields[column], max_length)
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
        fields["acquired_on"] = _parse_date(acquired, "acquired_on") if acquired else None
        username = row.get("account_manager", "")
        fields["account_manager"] = None
        if username:
            manager = self.managers.get(username)
            if manager is None:
                raise ValidationFailed(f"There is no user {username!r}.", field="account_manager")
            _check_manager(manager)
            fields["account_manager"] = manager
        tags = sorted({t.strip() for t in row.get("tags", "").split(";") if t.strip()})
        for tag in tags:
            _check_length("tags", tag, self.tag_length)
        fields["tags"] = tags
        return fields

    def accept(self, fields: dict[str, Any], line: int) -> None:
        self.tag_names.update(fields["tags"])

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        tag_ids: dict[str, int] = {}
        if self.tag_names:
            names = sorted(self.tag_names)
            Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
            for chunk in _chunks(names):
                tag_ids.update(Tag.objects.filter(name__in=chunk).values_list("name", "id"))
        reason = f"Assigned when the customer was imported from {self.job.filename}."[:300]
        through = Customer.tags.through
        count = 0
        for batch in _chunks(rows, BATCH_SIZE):
            tag_lists = [fields.pop("tags") for fields in batch]
            customers = Customer.objects.bulk_create([Customer(**fields) for fields in batch])
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


# ---------------------------------------------------------------- purchases


class _PurchaseImporter:
    """Rows become purchases as purchase_record makes them: same amount, currency and
    time rules, the first purchase moves a prospect up the ladder, and the purchase
    listeners (loyalty points) run for each one inside the import's transaction."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.customers: dict[int, Customer] = {}
        self.by_email: dict[str, list[Customer]] = defaultdict(list)
        self.existing: set[tuple[int, str]] = set()
        self.first_line: dict[tuple[int, str], int] = {}
        self.earliest: dict[int, tuple[dt.datetime, str]] = {}
        self.reference_length = _max_length(Purchase, "reference")

    def preload(self, rows: Iterable[dict[str, str]]) -> None:
        ids: set[int] = set()
        emails: set[str] = set()
        references: set[str] = set()
        for row in rows:
            raw_id = row.get("customer_id", "")
            if raw_id.isdigit() and len(raw_id) < 19:
                ids.add(int(raw_id))
            emails.add(row.get("customer_email", "").lower())
            references.add(row.get("reference", ""))
        visible = customers_visible_to(self.job.created_by)
        for chunk in _chunks(sorted(ids)):
            self.customers.update({c.pk: c for c in visible.filter(pk__in=chunk)})
        for chunk in _chunks(sorted(emails - {""})):
            for customer in visible.annotate(lemail=Lower("email")).filter(lemail__in=chunk):
                # One instance per customer, so a ladder move is seen by all its rows.
                customer = self.customers.setdefault(customer.pk, customer)
                self.by_email[customer.email.lower()].append(customer)
        for chunk in _chunks(sorted(references - {""})):
            self.existing.update(
                Purchase.objects.filter(reference__in=chunk).values_list("customer_id", "reference")
            )

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        customer = self._customer(row.get("customer_id", ""), row.get("customer_email", ""))
        occurred = row.get("occurred_at", "")
        if not occurred:
            raise ValidationFailed("occurred_at is required.", field="occurred_at")
        occurred_at = _parse_moment(occurred, "occurred_at")
        _check_length("reference", row.get("reference", ""), self.reference_length)
        reference, amount, currency = _clean_purchase(
            reference=row.get("reference", ""),
            amount=row.get("amount", ""),
            currency=row.get("currency", "") or "EUR",
            occurred_at=occurred_at,
        )
        return {
            "customer": customer,
            "reference": reference,
            "amount": amount,
            "currency": currency,
            "occurred_at": occurred_at,
            # Cut like purchase_record cuts them.
            "product": row.get("product", "")[:200],
            "category": row.get("category", "")[:100],
        }

    def _customer(self, raw_id: str, email: str) -> Customer:
        if raw_id:
            if not raw_id.isdigit():
                raise ValidationFailed(
                    f"customer_id {raw_id!r} is not a number.", field="customer_id"
                )
            customer = self.customers.get(int(raw_id)) if len(raw_id) < 19 else None
            if customer is None:
                raise ValidationFailed(f"There is no customer {raw_id}.", field="customer_id")
            if email and customer.email.lower() != email.lower():
                raise ValidationFailed(
                    f"Customer {raw_id} has the e-mail {customer.email or '(none)'}, not {email}.",
                    field="customer_email",
                )
            return customer
        if email:
            matches = self.by_email.get(email.lower(), [])
            if not matches:
                raise ValidationFailed(
                    f"There is no customer with the e-mail {email}.", field="customer_email"
                )
            if len(matches) > 1:
                raise ValidationFailed(
                    f"{len(matches)} customers have the e-mail {email}; use customer_id instead.",
                    field="customer_email",
                )
            return matches[0]
        raise ValidationFailed(
            "Give the customer_id or customer_email of the customer.", field="customer_id"
        )

    def accept(self, fields: dict[str, Any], line: int) -> None:
        customer, reference = fields["customer"], fields["reference"]
        key = (customer.pk, reference)
        if key in self.existing:
            raise ValidationFailed(
                f"Purchase {reference} is already recorded for {customer}.", field="reference"
            )
        if key in self.first_line:
            raise ValidationFailed(
                f"Purchase {reference} for {customer} is already on line "
                f"{self.first_line[key]} of this file.",
                field="reference",
            )
        self.first_line[key] = line
        seen = self.earliest.get(customer.pk)
        if seen is None or fields["occurred_at"] < seen[0]:
            self.earliest[customer.pk] = (fields["occurred_at"], reference)

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        self._promote_first_buyers()
        count = 0
        for batch in _chunks(rows, BATCH_SIZE):
            purchases = Purchase.objects.bulk_create([Purchase(**fields) for fields in batch])
            # Purchase listeners (loyalty points) react to imported purchases too, inside
            # this same transaction, exactly as for a purchase recorded one by one.
            for purchase in purchases:
                notify_purchase_recorded(purchase)
            count += len(purchases)
        return count

    def _promote_first_buyers(self) -> None:
        """A first purchase is the first step up the ladder, as in purchase_record; the
        earliest imported purchase of each prospect names the move."""
        prospects: list[int] = []
        for chunk in _chunks(sorted(self.earliest)):
            ids = list(
                Customer.objects.select_for_update()
                .filter(pk__in=chunk, stage=Stage.PROSPECT)
                .values_list("pk", flat=True)
            )
            Customer.objects.filter(pk__in=ids).update(
                stage=Stage.CUSTOMER, updated_at=timezone.now()
            )
            prospects.extend(ids)
        StageChange.objects.bulk_create(
            [
                StageChange(
                    customer_id=pk,
                    from_stage=Stage.PROSPECT,
                    to_stage=Stage.CUSTOMER,
                    rule="first_purchase",
                    reason=f"First purchase ({self.earliest[pk][1]}), imported."[:300],
                )
                for pk in prospects
            ],
            batch_size=BATCH_SIZE,
        )
        for pk in prospects:
            self.customers[pk].stage = Stage.CUSTOMER


IMPORTERS = {ImportKind.CUSTOMERS: _CustomerImporter, ImportKind.PURCHASES: _PurchaseImporter}
