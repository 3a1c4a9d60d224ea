"""python manage.py suggest_ladder_moves [--date YYYY-MM-DD]"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils import timezone

from customers.errors import ApplicationError
from relationships.services import ladder_suggestions_refresh


class Command(BaseCommand):
    help = "Suggest moves up the ladder of loyalty from purchases, praise, referrals and reviews."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run date YYYY-MM-DD (default: today).")

    def handle(self, *args, **options):
        value = options.get("date")
        try:
            run_date = dt.date.fromisoformat(value) if value else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date must be a date like 2026-11-22, not {value!r}.") from exc
        try:
            made = ladder_suggestions_refresh(run_date=run_date)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except IntegrityError as exc:
            # Two refreshes at once: one wins, the other's transaction rolled back whole.
            raise CommandError(
                "Another refresh wrote suggestions at the same time; nothing was written, run it again."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Ladder suggestions for {run_date}: {made} new or changed.")
        )
