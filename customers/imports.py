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
from dataclasses import dataclass, field
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


@dataclass
class _Parsed:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (CSV line number, values by column)
    errors: list[RowError] = field(default_factory=list)


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


def _parse(kind: str, text: str) -> _Parsed:
    """Split the text into rows keyed by column, with the line each row starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise ImportFileError("The file is empty.")
        header = [h.strip().lower() for h in header_row]
        _check_header(kind, header)
        parsed = _Parsed(header=header, rows=[])
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue  # blank lines are not rows
            if len(values) != len(header):
                parsed.errors.append(
                    RowError(
                        start,
                        f"The row has {len(values)} fields but the header has {len(header)}.",
                    )
                )
                continue
            parsed.rows.append((start, dict(zip(header, (v.strip() for v in values), strict=True))))
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num}: the CSV is malformed ({exc}).") from exc
    if not parsed.rows and not parsed.errors:
        raise ImportFileError("The file has a header but no rows.")
    return parsed


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
    parsed = _parse(kind, text)
    return ImportJob.objects.create(
        kind=kind,
        mode=mode,
        filename=(filename or "upload.csv")[:255],
        content=text,
        total_rows=len(parsed.rows) + len(parsed.errors),
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
        job.refresh_from_db()
        return job


def _run(job: ImportJob, on_progress: ProgressCallback | None) -> ImportJob:
    parsed = _parse(job.kind, job.content)
    total = len(parsed.rows) + len(parsed.errors)
    step = max(100, total // 50)

    def progress(done: int) -> None:
        if on_progress is not None:
            on_progress(done)
        if done == total or done % step == 0:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=done, total_rows=total)

    if job.kind == ImportKind.CUSTOMERS:
        validator, writer = _validate_customers, _write_customers
    else:
        validator, writer = _validate_purchases, _write_purchases
    valid, errors = validator(job, parsed, progress)
    errors = sorted(parsed.errors + errors, key=lambda e: e.line)

    rejected = bool(errors) and (job.mode == ImportMode.ALL_OR_NOTHING or not valid)
    with transaction.atomic():
        # The final status commits with the rows: a second run waiting on this lock finds
        # the job finished and writes nothing.
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportStatus.RUNNING:
            return locked
        imported = 0
        if not rejected:
            try:
                imported = writer(job, valid)
            except DatabaseError as exc:
                raise ValidationFailed(
                    "The database refused the import (another change clashed with it, such "
                    "as the same purchase recorded meanwhile); nothing was imported. "
                    "Upload the file again."
                ) from exc
        locked.status = ImportStatus.REJECTED if rejected else ImportStatus.DONE
        locked.total_rows = total
        locked.processed_rows = total
        locked.imported_rows = imported
        locked.errors = _report(errors)
        locked.finished_at = timezone.now()
        locked.save()
    return locked


def _report(errors: list[RowError]) -> list[dict[str, Any]]:
    report = [e.as_dict() for e in errors[:MAX_REPORTED_ERRORS]]
    if len(errors) > MAX_REPORTED_ERRORS:
        more = len(errors) - MAX_REPORTED_ERRORS
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


def _check_length(model: type, column: str, value: str, attr: str | None = None) -> None:
    max_length = model._meta.get_field(attr or column).max_length
    if max_length and len(value) > max_length:
        raise ValidationFailed(
            f"{column} is {len(value)} characters long; at most {max_length} fit.", field=column
        )


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


def _validate_customers(
    job: ImportJob, parsed: _Parsed, progress: Callable[[int], None]
) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    rows = parsed.rows
    segment_names = {r.get("segment", "").lower() for _, r in rows} - {""}
    segments: dict[str, Segment] = {}
    for chunk in _chunks(segment_names):
        for segment in Segment.objects.annotate(lname=Lower("name")).filter(lname__in=chunk):
            segments[segment.lname] = segment
    usernames = {r.get("account_manager", "") for _, r in rows} - {""}
    managers: dict[str, User] = {}
    for chunk in _chunks(usernames):
        managers.update({u.username: u for u in User.objects.filter(username__in=chunk)})

    valid: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    done = len(parsed.errors)
    for line, row in rows:
        try:
            valid.append((line, _clean_customer_row(row, segments, managers)))
        except ValidationFailed as exc:
            errors.append(RowError(line, exc.message, exc.field))
        done += 1
        progress(done)
    return valid, errors


def _clean_customer_row(
    row: dict[str, str], segments: dict[str, Segment], managers: dict[str, User]
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": row.get("name", ""),
        "kind": _choice(row.get("kind", ""), CustomerKind, CustomerKind.PERSON),
        "stage": _choice(row.get("stage", ""), Stage, Stage.PROSPECT),
        "status": _choice(row.get("status", ""), CustomerStatus, CustomerStatus.ACTIVE),
    }
    _validate_customer_fields(fields)
    for column in ("name", "email", "phone", "company"):
        value = row.get(column, "")
        _check_length(Customer, column, value)
        fields.setdefault(column, value)
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
        fields["segment"] = segments.get(segment_name.lower())
        if fields["segment"] is None:
            raise ValidationFailed(
                f"There is no segment called {segment_name!r}; an admin creates segments first.",
                field="segment",
            )
    acquired = row.get("acquired_on", "")
    fields["acquired_on"] = _parse_date(acquired, "acquired_on") if acquired else None
    username = row.get("account_manager", "")
    fields["account_manager"] = None
    if username:
        manager = managers.get(username)
        if manager is None:
            raise ValidationFailed(f"There is no user {username!r}.", field="account_manager")
        _check_manager(manager)
        fields["account_manager"] = manager
    tags = [t.strip() for t in row.get("tags", "").split(";") if t.strip()]
    for tag in tags:
        _check_length(Tag, "tags", tag, attr="name")
    fields["tags"] = sorted(set(tags))
    return fields


def _write_customers(job: ImportJob, valid: list[tuple[int, dict[str, Any]]]) -> int:
    tag_lists = [fields.pop("tags") for _, fields in valid]
    customers = [Customer(**fields) for _, fields in valid]
    Customer.objects.bulk_create(customers, batch_size=BATCH_SIZE)

    # The first assignment is recorded like customer_create records it.
    AccountManagerAssignment.objects.bulk_create(
        [
            AccountManagerAssignment(
                customer=c,
                account_manager=c.account_manager,
                reason=f"Assigned when the customer was imported from {job.filename}."[:300],
                changed_by=job.created_by,
            )
            for c in customers
            if c.account_manager_id
        ],
        batch_size=BATCH_SIZE,
    )

    names = sorted({name for tags in tag_lists for name in tags})
    if names:
        Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
        tag_ids: dict[str, int] = {}
        for chunk in _chunks(names):
            tag_ids.update(Tag.objects.filter(name__in=chunk).values_list("name", "id"))
        Through = Customer.tags.through
        Through.objects.bulk_create(
            [
                Through(customer_id=c.pk, tag_id=tag_ids[name])
                for c, tags in zip(customers, tag_lists, strict=True)
                for name in tags
            ],
            batch_size=BATCH_SIZE,
        )
    return len(customers)


# ---------------------------------------------------------------- purchases


def _validate_purchases(
    job: ImportJob, parsed: _Parsed, progress: Callable[[int], None]
) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    rows = parsed.rows
    visible = customers_visible_to(job.created_by)
    ids = {r.get("customer_id", "") for _, r in rows} - {""}
    numeric_ids = {int(i) for i in ids if i.isdigit() and len(i) < 19}
    by_id: dict[int, Customer] = {}
    for chunk in _chunks(sorted(numeric_ids)):
        by_id.update({c.pk: c for c in visible.filter(pk__in=chunk)})
    emails = {r.get("customer_email", "").lower() for _, r in rows} - {""}
    by_email: dict[str, list[Customer]] = defaultdict(list)
    for chunk in _chunks(sorted(emails)):
        for customer in visible.annotate(lemail=Lower("email")).filter(lemail__in=chunk):
            by_email[customer.lemail].append(customer)
    references = {r.get("reference", "") for _, r in rows} - {""}
    existing: set[tuple[int, str]] = set()
    for chunk in _chunks(sorted(references)):
        existing.update(
            Purchase.objects.filter(reference__in=chunk).values_list("customer_id", "reference")
        )

    valid: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    first_line: dict[tuple[int, str], int] = {}
    done = len(parsed.errors)
    for line, row in rows:
        try:
            fields = _clean_purchase_row(row, by_id, by_email)
            key = (fields["customer"].pk, fields["reference"])
            if key in existing:
                raise ValidationFailed(
                    f"Purchase {fields['reference']} is already recorded for {fields['customer']}.",
                    field="reference",
                )
            if key in first_line:
                raise ValidationFailed(
                    f"Purchase {fields['reference']} for {fields['customer']} is already on "
                    f"line {first_line[key]} of this file.",
                    field="reference",
                )
            first_line[key] = line
            valid.append((line, fields))
        except ValidationFailed as exc:
            errors.append(RowError(line, exc.message, exc.field))
        done += 1
        progress(done)
    return valid, errors


def _clean_purchase_row(
    row: dict[str, str], by_id: dict[int, Customer], by_email: dict[str, list[Customer]]
) -> dict[str, Any]:
    raw_id, email = row.get("customer_id", ""), row.get("customer_email", "")
    if raw_id:
        if not raw_id.isdigit():
            raise ValidationFailed(f"customer_id {raw_id!r} is not a number.", field="customer_id")
        customer = by_id.get(int(raw_id)) if len(raw_id) < 19 else None
        if customer is None:
            raise ValidationFailed(f"There is no customer {raw_id}.", field="customer_id")
        if email and customer.email.lower() != email.lower():
            raise ValidationFailed(
                f"Customer {raw_id} has the e-mail {customer.email or '(none)'}, not {email}.",
                field="customer_email",
            )
    elif email:
        matches = by_email.get(email.lower(), [])
        if not matches:
            raise ValidationFailed(
                f"There is no customer with the e-mail {email}.", field="customer_email"
            )
        if len(matches) > 1:
            raise ValidationFailed(
                f"{len(matches)} customers have the e-mail {email}; use customer_id instead.",
                field="customer_email",
            )
        customer = matches[0]
    else:
        raise ValidationFailed(
            "Give the customer_id or customer_email of the customer.", field="customer_id"
        )
    occurred = row.get("occurred_at", "")
    if not occurred:
        raise ValidationFailed("occurred_at is required.", field="occurred_at")
    occurred_at = _parse_moment(occurred, "occurred_at")
    _check_length(Purchase, "reference", row.get("reference", "").strip())
    reference, amount, currency = _clean_purchase(
        reference=row.get("reference", ""),
        amount=row.get("amount", "") or "",
        currency=row.get("currency", "") or "EUR",
        occurred_at=occurred_at,
    )
    return {
        "customer": customer,
        "reference": reference,
        "amount": amount,
        "currency": currency,
        "occurred_at": occurred_at,
        # Truncated like purchase_record truncates them.
        "product": row.get("product", "")[:200],
        "category": row.get("category", "")[:100],
    }


def _write_purchases(job: ImportJob, valid: list[tuple[int, dict[str, Any]]]) -> int:
    purchases = [Purchase(**fields) for _, fields in valid]
    Purchase.objects.bulk_create(purchases, batch_size=BATCH_SIZE)

    # A first purchase is the first step up the ladder, as in purchase_record: the
    # earliest imported purchase of each prospect names the move.
    earliest: dict[int, Purchase] = {}
    for purchase in purchases:
        seen = earliest.get(purchase.customer_id)
        if seen is None or purchase.occurred_at < seen.occurred_at:
            earliest[purchase.customer_id] = purchase
    prospects: set[int] = set()
    for chunk in _chunks(sorted(earliest)):
        ids = list(
            Customer.objects.filter(pk__in=chunk, stage=Stage.PROSPECT).values_list("pk", flat=True)
        )
        Customer.objects.filter(pk__in=ids, stage=Stage.PROSPECT).update(
            stage=Stage.CUSTOMER, updated_at=timezone.now()
        )
        prospects.update(ids)
    StageChange.objects.bulk_create(
        [
            StageChange(
                customer_id=pk,
                from_stage=Stage.PROSPECT,
                to_stage=Stage.CUSTOMER,
                rule="first_purchase",
                reason=f"First purchase ({earliest[pk].reference}), imported."[:300],
            )
            for pk in sorted(prospects)
        ],
        batch_size=BATCH_SIZE,
    )
    for purchase in purchases:
        if purchase.customer_id in prospects:
            purchase.customer.stage = Stage.CUSTOMER
    # Purchase listeners (loyalty points) react to imported purchases too, inside this
    # same transaction, exactly as for a purchase recorded one by one.
    for purchase in purchases:
        notify_purchase_recorded(purchase)
    return len(purchases)


def import_admins() -> list[User]:
    """Active admins, for the commands' default actor."""
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk"))
