"""`manage.py import_customers FILE`: the upload page's import, run here and now."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from customers.errors import ApplicationError
from customers.imports import (
    bad_row_count,
    import_admins,
    import_job_create,
    import_job_run,
    read_upload,
)
from customers.models import ImportKind, ImportMatch, ImportMode, ImportStatus, User

MODES = {"all-or-nothing": ImportMode.ALL_OR_NOTHING, "valid-rows": ImportMode.VALID_ROWS}
MATCHES = {
    "external-id": ImportMatch.EXTERNAL_ID,
    "email": ImportMatch.EMAIL,
    "none": ImportMatch.NONE,
}


class ImportCommand(BaseCommand):
    """Shared by import_customers and import_purchases: same service as the page, run
    synchronously with a progress bar; exits non-zero when any row was rejected."""

    kind: str = ImportKind.CUSTOMERS

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8, header on line 1).")
        parser.add_argument(
            "--mode",
            choices=sorted(MODES),
            default="all-or-nothing",
            help="all-or-nothing (default): import nothing if any row is bad; "
            "valid-rows: import the good rows and report the bad ones.",
        )
        if self.kind == ImportKind.CUSTOMERS:
            parser.add_argument(
                "--match",
                choices=sorted(MATCHES),
                default="none",
                help="external-id or email: a row matching an existing customer updates "
                "them instead of creating another; none (default): every row creates one.",
            )
        parser.add_argument(
            "--as",
            dest="username",
            help="Admin recorded as the importer (default: the first active admin).",
        )

    def handle(
        self,
        *args,
        file: str,
        mode: str,
        username: str | None,
        match: str = "none",
        **options,
    ):
        actor = self._actor(username)
        path = Path(file)
        try:
            with path.open("rb") as fh:
                data = read_upload(fh)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        try:
            job = import_job_create(
                actor=actor,
                kind=self.kind,
                mode=MODES[mode],
                filename=path.name,
                data=data,
                match_on=MATCHES[match],
            )
        except ApplicationError as exc:
            raise CommandError(f"{file}: {exc.message}") from exc

        quiet = options.get("verbosity", 1) == 0
        bar = tqdm(
            total=job.total_rows, unit="row", desc="Checking", file=sys.stderr, disable=quiet
        )

        def progress(done: int) -> None:
            bar.update(done - bar.n)
            if done == job.total_rows:
                bar.close()
                if not quiet:
                    self.stderr.write("Writing to the database…")

        try:
            job = import_job_run(job_id=job.pk, on_progress=progress)
        finally:
            bar.close()

        for error in job.errors:
            where = f"line {error['line']}" if error.get("line") else "file"
            column = f" [{error['column']}]" if error.get("column") else ""
            self.stderr.write(f"{where}{column}: {error['message']}")
        if job.status == ImportStatus.DONE:
            changes = (
                f" ({job.created_rows} created, {job.updated_rows} updated)"
                if self.kind == ImportKind.CUSTOMERS
                else ""
            )
            self.stdout.write(
                f"Imported {job.imported_rows:,} of {job.total_rows:,} rows{changes} "
                f"(import #{job.pk})."
            )
        if job.status == ImportStatus.REJECTED:
            raise CommandError(
                f"Nothing imported: {bad_row_count(job)} bad rows of {job.total_rows} "
                f"(import #{job.pk})."
            )
        if job.status == ImportStatus.FAILED:
            raise CommandError(f"The import failed; nothing was imported (import #{job.pk}).")
        if job.errors:
            raise CommandError(
                f"{bad_row_count(job)} bad rows left out of {job.total_rows} (import #{job.pk})."
            )

    def _actor(self, username: str | None) -> User:
        if username:
            actor = User.objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"There is no user {username!r}.")
            if not actor.is_admin:
                raise CommandError(f"{username} is not an active admin; only admins import.")
            return actor
        admins = import_admins()
        if not admins:
            raise CommandError("There is no active admin; create one or pass --as USERNAME.")
        return admins[0]


class Command(ImportCommand):
    help = "Import customers from a CSV file (columns in docs/import.md)."
    kind = ImportKind.CUSTOMERS
