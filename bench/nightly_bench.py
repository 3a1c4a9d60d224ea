"""Wall time of the nightly run on the benchmark book, step by step, against its floor.

    make bench-nightly   # DATABASE_URL=postgres://.../crm_bench python bench/nightly_bench.py

Needs the seeded benchmark book (1M customers, ~10M purchases, ~5M interactions; `make bench`
seeds it). Applies migrations, then prints:
- the floor: ONE SQL statement that only aggregates purchases per customer (count, sum,
  first and last purchase), on the server only, and the same with every row fetched;
- the full nightly run (metrics, model fit, scores, flags, retention): wall time, each
  step's time and the rows it wrote.
It prints figures; it does not pass or fail. The run writes CustomerMetrics, RiskFlag,
ModelFit, RetentionSnapshot and NightlyRun rows for the run date (idempotent per date).

Options: --date YYYY-MM-DD (run date, default today), --floor-only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.dev")
os.environ["DEBUG"] = "false"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from customers.models import Customer, Purchase  # noqa: E402
from relationships.models import Interaction  # noqa: E402
from relationships.nightly import nightly_run  # noqa: E402

_P = Purchase._meta.db_table
# Numbers as float8 so the fetch measures the query, not building Decimals and datetimes.
FLOOR_SQL = f"SELECT customer_id, COUNT(*), SUM(amount)::float8, EXTRACT(EPOCH FROM MIN(occurred_at))::float8, EXTRACT(EPOCH FROM MAX(occurred_at))::float8 FROM {_P} GROUP BY customer_id"  # noqa: S608


def estimate(model) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table])
            row = cursor.fetchone()
            if row and row[0] > 0:
                return int(row[0])
        return model.objects.count()


def timed(label: str, func) -> float:
    t0 = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - t0
    print(f"  {label:<52} {seconds:8.2f} s" + (f"   ({result:,} rows)" if isinstance(result, int) else ""))
    return seconds


def floor() -> None:
    print("Floor: one statement aggregating purchases per customer")

    def server_only() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({FLOOR_SQL}) per_customer")  # noqa: S608
            return int(cursor.fetchone()[0])

    def fetched() -> int:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL)
            return len(cursor.fetchall())

    timed("aggregate on the server (count of groups)", server_only)
    timed("aggregate and fetch every row into Python", fetched)


def full_run(run_date: dt.date) -> None:
    print(f"Full nightly run for {run_date}")
    step_started = {}

    def progress(name: str) -> None:
        step_started[name] = time.perf_counter()
        print(f"  ... {name}", flush=True)

    t0 = time.perf_counter()
    run = nightly_run(run_date=run_date, progress=progress)
    wall = time.perf_counter() - t0
    for name, seconds in run.durations.items():
        print(f"  {name:<20} {seconds:8.2f} s   ({run.rows.get(name, 0):,} rows)")
    print(f"  {'wall time':<20} {wall:8.2f} s   (status {run.status}; "
          f"flags raised {run.rows.get('flags_raised', 0):,}, cleared {run.rows.get('flags_cleared', 0):,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--floor-only", action="store_true")
    args = parser.parse_args()

    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"Book: {estimate(Customer):,} customers, {estimate(Purchase):,} purchases, "
        f"{estimate(Interaction):,} interactions (estimates)"
    )
    floor()
    if not args.floor_only:
        full_run(args.date or timezone.localdate())


if __name__ == "__main__":
    main()
