"""Wall time of the nightly run on the benchmark book, step by step, against its floor.

    make bench-nightly   # DATABASE_URL=postgres://.../crm_bench python bench/nightly_bench.py

Needs the seeded benchmark book (1M customers, ~10M purchases, ~5M interactions; `make bench`
seeds it). Applies migrations, then prints:
- the floor: ONE SQL statement that only aggregates purchases per customer (count, sum,
  first and last purchase), on the server only, and the same with every row fetched;
- a full nightly run for yesterday (metrics, model fit, scores, flags, retention,
  write_metrics): wall time, each step's time and the rows it wrote;
- the next night (today) after one new purchase for 1% of the customers (inserted by the
  bench and deleted again afterwards): an incremental night, which starts from the full
  night's stored summaries and aggregates only the changed customers (the touched ones,
  and the customers the seeded book itself has activity for on that day);
- the same night run again after one new purchase for another 1% (exactly the customers
  changed since that night);
- the analytics dashboard and at-risk queue as the admin and as the manager "alice".
It prints figures; it does not pass or fail. To replay two nights ending today on the
bench book it forgets the NightlyRun rows from yesterday on, then writes CustomerMetrics,
RiskFlag, ModelFit, RetentionSnapshot and NightlyRun rows for both dates.

Options: --date YYYY-MM-DD (the second night, default today), --floor-only, --full-only,
--second-mode auto|full|incremental (default incremental).
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
from django.db import DatabaseError, connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from customers.models import Customer, Purchase  # noqa: E402
from relationships.models import Interaction, ModelFit, NightlyRun, RetentionSnapshot, RiskFlag  # noqa: E402
from relationships.nightly import nightly_run  # noqa: E402

_P = Purchase._meta.db_table
# Numbers as float8 so the fetch measures the query, not building Decimals and datetimes.
FLOOR_SQL = f"SELECT customer_id, COUNT(*), SUM(amount)::float8, EXTRACT(EPOCH FROM MIN(occurred_at))::float8, EXTRACT(EPOCH FROM MAX(occurred_at))::float8 FROM {_P} GROUP BY customer_id"  # noqa: S608


def estimate(model) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table]
            )
            row = cursor.fetchone()
            if row and row[0] > 0:
                return int(row[0])
        return model.objects.count()


def timed(label: str, func) -> float:
    t0 = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - t0
    print(
        f"  {label:<52} {seconds:8.2f} s"
        + (f"   ({result:,} rows)" if isinstance(result, int) else "")
    )
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


def load_average() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def timed_run(title: str, run_date: dt.date, mode: str = "auto") -> None:
    print(f"{title} for {run_date} (load average {load_average()})")

    def progress(name: str) -> None:
        print(f"  ... {name}", flush=True)

    t0 = time.perf_counter()
    run = nightly_run(run_date=run_date, progress=progress, mode=mode)
    wall = time.perf_counter() - t0
    print(f"  mode: {run.mode} ({run.mode_reason})")
    for name, seconds in run.durations.items():
        print(f"  {name:<20} {seconds:8.2f} s   ({run.rows.get(name, 0):,} rows)")
    print(
        f"  {'wall time':<20} {wall:8.2f} s   (status {run.status}; "
        f"flags raised {run.rows.get('flags_raised', 0):,}, cleared {run.rows.get('flags_cleared', 0):,})"
    )


def vacuum() -> None:
    from relationships.models import CustomerMetrics

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"VACUUM (ANALYZE) {connection.ops.quote_name(CustomerMetrics._meta.db_table)}"
        )
        # And the previous run's writes flushed, as they are hours later (needs the
        # pg_checkpoint role or a superuser; skipped with a note otherwise).
        try:
            with transaction.atomic():
                cursor.execute("CHECKPOINT")
            flushed = "; checkpoint done"
        except DatabaseError:
            flushed = "; no permission for CHECKPOINT"
    print(
        f"Vacuumed CustomerMetrics as autovacuum would between two nights{flushed} ({time.perf_counter() - t0:.1f} s)"
    )


def clear_runs_from(run_date: dt.date) -> None:
    """The bench replays two nights ending today: forget runs from the first of them on
    and undo their flags (bench book only), or the earlier date would be refused as older
    than the last run."""
    with transaction.atomic():
        RiskFlag.objects.filter(raised_on__gte=run_date).delete()
        RiskFlag.objects.filter(cleared_on__gte=run_date).update(cleared_on=None)
        for model in (RetentionSnapshot, ModelFit, NightlyRun):
            model.objects.filter(run_date__gte=run_date).delete()


def touch_customers(run_date: dt.date, share: float, seed: float) -> list[int]:
    """One new purchase, dated noon the day before ``run_date``, for ``share`` of the
    customers (random, seeded). Raw SQL so no loyalty or other hooks run: only the
    night's input changes. Entered at that noon too (created_at), as a day's purchases
    are entered during the day, not in the minutes before the night. Returns the new
    purchase ids, deleted again after the bench."""
    when = timezone.make_aware(dt.datetime.combine(run_date - dt.timedelta(days=1), dt.time(12)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(
            f"INSERT INTO {_P} (customer_id, reference, amount, currency, occurred_at, product, category, created_at) "  # noqa: S608
            f"SELECT id, 'bench-' || id || '-' || %s || '-' || %s, 42.00, 'EUR', %s, 'Bench', 'Bench', LEAST(%s, now()) "
            f"FROM {Customer._meta.db_table} WHERE random() < %s RETURNING id",
            [run_date.isoformat(), seed, when, when, share],
        )
        return [r[0] for r in cursor.fetchall()]


def drop_purchases(ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_P} WHERE id = ANY(%s)", [ids])  # noqa: S608


def pages(requests: int = 10) -> None:
    """The pages that read what the night wrote, as the admin and as the account manager
    "alice" (the bench book's users): median and slowest of ``requests`` after a warm-up."""
    from django.conf import settings
    from django.test import Client, override_settings
    from django.urls import reverse

    from customers.models import User

    print(
        f"Pages after the run ({requests} requests each, in process, DEBUG off; load average {load_average()})"
    )
    # Static files from the app's folders (no collectstatic needed), as bench/customer_pages.py.
    static = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(ALLOWED_HOSTS=["testserver"], STORAGES={**settings.STORAGES, **static}):
        for username in ("admin", "alice"):
            user = User.objects.filter(username=username).first()
            if user is None:
                continue
            client = Client()
            client.force_login(user)
            for name in ("analytics", "at-risk"):
                url = reverse(name)
                client.get(url)  # warm-up
                times = []
                for _ in range(requests):
                    t0 = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - t0)
                    if response.status_code != 200:
                        raise SystemExit(f"{url} answered {response.status_code}")
                times.sort()
                print(
                    f"  {url:<14} as {username:<6} median {times[len(times) // 2] * 1000:7.1f} ms   "
                    f"slowest {times[-1] * 1000:7.1f} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--date", type=dt.date.fromisoformat, default=None, help="the second night (default today)"
    )
    parser.add_argument("--floor-only", action="store_true")
    parser.add_argument("--full-only", action="store_true", help="skip the second night")
    parser.add_argument(
        "--second-mode",
        choices=["auto", "full", "incremental"],
        default="incremental",
        help="mode of the second night (default incremental: refused with the reason if not possible)",
    )
    args = parser.parse_args()

    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"Book: {estimate(Customer):,} customers, {estimate(Purchase):,} purchases, "
        f"{estimate(Interaction):,} interactions (estimates); load average {load_average()}"
    )
    floor()
    if args.floor_only:
        return
    second = args.date or timezone.localdate()
    first = second - dt.timedelta(days=1)
    clear_runs_from(first)
    # Nights run back to back here; in production a day passes and autovacuum cleans the
    # row versions the previous night's in-place update left (see docs/benchmarks.md).
    vacuum()
    timed_run("Full nightly run", first, mode="full")
    if args.full_only:
        pages()
        return
    ids = touch_customers(second, 0.01, 0.42)
    print(
        f"Touched {len(ids):,} customers (one new purchase each, dated {second - dt.timedelta(days=1)})"
    )
    try:
        # The next night: the 1% touched, plus what the bench book itself has dated on
        # that day (it is seeded up to today) and the customers whose 12-month revenue
        # or 30-day complaints lose a row that day.
        timed_run(
            "Next night (1% of customers touched, plus the book's own day)",
            second,
            mode=args.second_mode,
        )
        more = touch_customers(second, 0.01, 0.24)
        ids += more
        print(f"Touched {len(more):,} more customers")
        # The same night again: exactly the customers touched since (a rerun after an
        # import or a correction starts from that night's own summaries).
        timed_run(
            "The same night again (1% of customers changed since)", second, mode=args.second_mode
        )
    finally:
        drop_purchases(ids)
    pages()


if __name__ == "__main__":
    main()
