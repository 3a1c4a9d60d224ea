"""python manage.py run_nightly [--date YYYY-MM-DD] [--mode auto|full|incremental]"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from customers.errors import ApplicationError
from relationships.nightly import STEPS, nightly_run


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be a date like 2026-11-22, not {value!r}.") from exc


class Command(BaseCommand):
    help = "Recompute customer metrics, model fits, at-risk flags and retention for a run date."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run date YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--mode",
            choices=["auto", "full", "incremental"],
            default="auto",
            help="auto (default): incremental when possible, else full; incremental is refused "
            "with the reason when it is not possible.",
        )

    def handle(self, *args, **options):
        run_date = _date(options["date"]) if options.get("date") else None
        bar = tqdm(total=len(STEPS), desc="nightly run", unit="step", file=self.stderr._out)

        def progress(name: str) -> None:
            if bar.n or name != next(iter(STEPS)):
                bar.update(1)
            bar.set_postfix_str(name)

        try:
            run = nightly_run(run_date=run_date, progress=progress, mode=options["mode"])
            bar.update(len(STEPS) - bar.n)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except Exception as exc:
            raise CommandError(
                f"The run failed and the previous results are unchanged: {exc}"
            ) from exc
        finally:
            bar.close()
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in run.durations.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Run of {run.run_date} ({run.mode}: {run.mode_reason}) done in {run.total_seconds:.2f}s: {steps}. "
                f"Flags raised {run.rows.get('flags_raised', 0)}, cleared {run.rows.get('flags_cleared', 0)}, "
                f"re-raised after handling {run.rows.get('flags_reraised', 0)}."
            )
        )
