"""Run the nightly loyalty steps for a date by hand (the same service Celery runs)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from customers.errors import ApplicationError
from loyalty.services import STEPS, nightly_step_run


class Command(BaseCommand):
    help = "Release pending points, expire points and recompute tiers for a date (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run date, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--step", choices=sorted(STEPS), action="append", help="Only this step."
        )

    def handle(self, *args, date=None, step=None, **options):
        try:
            run_date = dt.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date must look like 2026-01-31, not {date!r}.") from exc
        for name in step or ["expire", "tiers"]:
            try:
                run = nightly_step_run(step=name, run_date=run_date)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(
                f"{name} {run_date}: {run.get_status_display()}, {run.rows} rows {run.error}"
            )
