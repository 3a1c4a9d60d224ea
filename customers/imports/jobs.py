"""Import jobs: store a checked file, then validate every row and write the good ones in
one transaction that also sets the job's final status."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from ..errors import ApplicationError, Conflict, NotAllowed, ValidationFailed
from ..models import ImportJob, ImportKind, ImportMatch, ImportMode, ImportStatus, Role, User
from .customer_rows import CustomerImporter
from .files import ImportFileError, RowError, count_rows, decode_upload, header_of, records
from .purchase_rows import PurchaseImporter

logger = logging.getLogger(__name__)

# Stored errors are capped so a wholly wrong 50 MB file does not become a 50 MB JSON
# column; the count of the rest is still reported.
MAX_REPORTED_ERRORS = 1000

ProgressCallback = Callable[[int], None]


class Importer(Protocol):
    """What a kind of row brings to the run: preload what the rows refer to, clean a row
    into model fields, accept it against the rows before it, write the good ones."""

    def preload(self, rows: Iterable[dict[str, str]]) -> None: ...
    def clean(self, row: dict[str, str]) -> dict[str, Any]: ...
    def accept(self, fields: dict[str, Any], line: int) -> None: ...
    def write(self, rows: Iterable[dict[str, Any]]) -> int: ...

    # Rows accepted (after the check) or written (after the write) that create a record,
    # and that update one.
    creates: int
    updates: int


IMPORTERS: dict[str, Callable[[ImportJob], Importer]] = {
    ImportKind.CUSTOMERS: CustomerImporter,
    ImportKind.PURCHASES: PurchaseImporter,
}


def import_job_create(
    *,
    actor: User,
    kind: str,
    mode: str,
    filename: str,
    data: bytes,
    match_on: str = ImportMatch.NONE,
    check_only: bool = False,
) -> ImportJob:
    """Check the file as a whole and store it as a job waiting to run. Only admins import:
    an import may assign customers to any account manager. A customer import may match
    rows to existing customers (`match_on`); `check_only` stops after the check with what
    the import would create and update, for the admin to confirm (import_job_confirm)."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can import files.")
    if kind not in ImportKind.values:
        raise ValidationFailed(f"Unknown import kind {kind!r}.", field="kind")
    if mode not in ImportMode.values:
        raise ValidationFailed(f"Unknown import mode {mode!r}.", field="mode")
    if match_on not in ImportMatch.values:
        raise ValidationFailed(f"Unknown way to match {match_on!r}.", field="match_on")
    if kind != ImportKind.CUSTOMERS:
        match_on = ImportMatch.NONE
    text = decode_upload(data)
    total = count_rows(kind, text)
    if match_on != ImportMatch.NONE and match_on not in header_of(text):
        raise ImportFileError(
            f"Matching on {ImportMatch(match_on).name.lower().replace('_', ' ')} needs a "
            f"{match_on} column in the file; add it or choose another way to match."
        )
    return ImportJob.objects.create(
        kind=kind,
        mode=mode,
        match_on=match_on,
        check_only=check_only,
        filename=(filename or "upload.csv")[:255],
        content=text,
        total_rows=total,
        created_by=actor,
    )


def import_job_confirm(*, actor: User, job: ImportJob) -> ImportJob:
    """The admin's go after a check: the job runs again, checking and then writing (the
    data may have changed since the check, so the rows are judged again)."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can import files.")
    # Unsent again, so the send (and the outbox sweep, should the broker be down) picks
    # it up like a new job; a message left from the check finds a new task id and stops.
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.PENDING, check_only=False, sent_at=None, send_tried_at=None, task_id=""
    )
    if not updated:
        raise Conflict("This import is not waiting for confirmation any more.")
    job.refresh_from_db(fields=["status", "check_only"])
    return job


def import_job_run(
    *, job_id: int, on_progress: ProgressCallback | None = None, task_id: str | None = None
) -> ImportJob:
    """Validate and import a job. Safe to call twice: a finished job is returned as it is,
    and a job left RUNNING by a crashed worker starts again from the beginning (its writes
    were one transaction, so none of them were kept). A task passes its message id: a
    message for a job that was sent again since (customers.tasks.import_send) does nothing,
    so a job is not run by two messages at once."""
    claim = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING]
    )
    if task_id is not None:
        # An empty task_id: a job queued by a version that did not record it.
        claim = claim.filter(Q(task_id="") | Q(task_id=task_id))
    claimed = claim.update(
        status=ImportStatus.RUNNING, processed_rows=0, imported_rows=0, errors=[]
    )
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
    importer.preload(row for _, row, _ in records(job.kind, job.content) if row is not None)

    step = max(100, job.total_rows // 50)
    done = 0
    errors: list[RowError] = []
    bad_lines: set[int] = set()
    for line, row, error in records(job.kind, job.content):
        if row is not None:  # records() gives a row or its error, never both
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
    if job.check_only and not rejected:
        return _checked(job, importer, done, errors, more=len(bad_lines) - len(errors))
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
                for line, row, _ in records(job.kind, job.content)
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
        locked.created_rows = importer.creates if not rejected else 0
        locked.updated_rows = importer.updates if not rejected else 0
        locked.errors = _report(errors, more=len(bad_lines) - len(errors))
        locked.finished_at = timezone.now()
        locked.save()
    return locked


def _checked(
    job: ImportJob, importer: Importer, done: int, errors: list[RowError], *, more: int
) -> ImportJob:
    """Stop after the check: what the import would do waits for the admin's go."""
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
        status=ImportStatus.CHECKED,
        total_rows=done,
        processed_rows=done,
        created_rows=importer.creates,
        updated_rows=importer.updates,
        errors=_report(errors, more=more),
        finished_at=timezone.now(),
    )
    return ImportJob.objects.defer("content").get(pk=job.pk)


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
