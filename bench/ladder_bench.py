"""Time of the set-based ladder suggestion refresh on a seeded book.

    DATABASE_URL=postgres://.../crm_bench python bench/ladder_bench.py [--customers N]

Seeds the book with `seed_demo` when it has fewer than N customers (default 100,000), then
runs `ladder_suggestions_refresh` twice for today: the first run writes the suggestions,
the second shows the idempotent re-run. Prints seconds, SQL statements and rows; it does
not pass or fail. The statement count does not grow with the book (no query per customer).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.dev")
os.environ["DEBUG"] = "false"
warnings.filterwarnings("ignore", message="No directory at")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from customers.models import Customer  # noqa: E402
from relationships.models import LadderSuggestion  # noqa: E402
from relationships.services import ladder_suggestions_refresh  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    have = Customer.objects.count()
    if have < args.customers:
        print(f"The book has {have:,} customers; seeding {args.customers:,}...")
        call_command("seed_demo", customers=str(args.customers))
    book = Customer.objects.count()
    today = timezone.localdate()
    for label in ("first run", "re-run"):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            made = ladder_suggestions_refresh(run_date=today)
            seconds = time.perf_counter() - t0
        print(
            f"{label}: {seconds:.2f}s for {book:,} customers, {len(ctx.captured_queries)} SQL statements, "
            f"{made:,} suggestions made; {LadderSuggestion.objects.filter(status='open').count():,} open"
        )


if __name__ == "__main__":
    main()
