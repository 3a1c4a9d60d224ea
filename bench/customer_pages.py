"""Server time and SQL queries of the customer pages on the benchmark book.

    make bench        # DATABASE_URL=postgres://.../crm_bench python bench/customer_pages.py

Seeds the book first if it has fewer than 1,000,000 customers (1M customers, ~10M purchases,
~5M interactions; several minutes on two cores), else reuses it. Then it requests each page
in process with django.test.Client (DEBUG off) as the admin and prints the median and p99
time and the number of SQL queries. It prints figures; it does not pass or fail.

Options: --requests N (50), --explain (EXPLAIN ANALYZE the slowest query of each page),
--customers N (size of the book to seed when missing, 1,000,000).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.dev")
os.environ["DEBUG"] = "false"  # DEBUG would log every query and render debug pages
# Static files are served from the app's folders here; no collectstatic needed.
warnings.filterwarnings("ignore", message="No directory at")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from crm import demo  # noqa: E402
from customers.models import Customer, Segment, User  # noqa: E402
from relationships.models import RetentionSnapshot  # noqa: E402

GOALS_MS = {"list": 100.0, "detail": 50.0}


def ensure_book(target: int) -> Customer:
    have = Customer.objects.count()
    heavy = Customer.objects.filter(name=demo.BENCH_CUSTOMER_NAME).order_by("id").first()
    if have < target:
        print(f"The book has {have:,} customers; seeding {target:,} (takes minutes)...")
        call_command(
            "seed_demo",
            customers=str(target),
            purchases_per_customer="10",
            interactions_per_customer="5",
            bench_customer=heavy is None,
        )
        heavy = Customer.objects.filter(name=demo.BENCH_CUSTOMER_NAME).order_by("id").first()
    if heavy is None:
        sys.exit(
            f"No customer named {demo.BENCH_CUSTOMER_NAME!r}: seed the bench book into an "
            "empty database (seed_demo --bench-customer)."
        )
    return heavy


def analyze_unanalyzed_tables() -> None:
    """Other benches load big tables into the same database; a table PostgreSQL has never
    analyzed gets wild estimates (a sequential scan of 10M rows instead of an index probe).
    Autovacuum would catch up in production; here we analyze before measuring."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as c:
        c.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE n_live_tup > 10000 "
            "AND last_analyze IS NULL AND last_autoanalyze IS NULL ORDER BY relname"
        )
        for (table,) in c.fetchall():
            print(f"ANALYZE {table} (never analyzed)")
            c.execute(f'ANALYZE "{table}"')


def deep_cursor(rows_in: int) -> str:
    """The page's own "next" cursor as it would be after `rows_in` rows sorted by name."""
    from customers.pagination import encode_cursor  # the list page's keyset cursor

    row = Customer.objects.order_by("name", "id").only("name")[rows_in - 1]
    return encode_cursor("name", row)


def behind_pages(lists: str, segment: Segment) -> list[tuple[str, str, str, str]]:
    """The dashboard's click-through: the customers behind the last complete month's
    figures (and a segment's, and alice's), as the latest nightly run counted them.
    None before a nightly run has stored retention (make bench-nightly)."""
    latest = (
        RetentionSnapshot.objects.filter(period_kind="month", cut_kind="all")
        .filter(period_end__lt=F("run_date"))
        .order_by("-run_date", "-period_start")
        .first()
    )
    if latest is None:
        print("No retention snapshots yet: the click-through pages are left out.")
        return []
    month = f"period=month&period_start={latest.period_start}"
    label = latest.period_start.strftime("%b %Y")
    return [
        (
            "list",
            "admin",
            f"Behind a number: retained, {label}",
            f"{lists}?retention=retained&{month}",
        ),
        ("list", "admin", f"Behind a number: lost, {label}", f"{lists}?retention=lost&{month}"),
        ("list", "admin", f"Behind a number: new, {label}", f"{lists}?retention=new&{month}"),
        (
            "list",
            "admin",
            f"Behind a number: lost, {label}, segment SMB",
            f"{lists}?retention=lost&{month}&cut=segment:{segment.pk}",
        ),
        (
            "list",
            "alice",
            f"Behind a number: lost, {label} (alice)",
            f"{lists}?retention=lost&{month}",
        ),
    ]


def measure(client: Client, url: str, requests: int) -> dict:
    for _ in range(3):  # warm caches and connection
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}; the bench needs 200.")
    times, cpu, sql, counts, slowest = [], [], [], set(), (0.0, "")
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        counts.add(len(queries.captured_queries))
        sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        for q in queries.captured_queries:
            if float(q["time"]) * 1000 > slowest[0]:
                slowest = (float(q["time"]) * 1000, q["sql"])
    return {
        "median": statistics.median(times),
        "p99": float(np.percentile(times, 99)),
        "cpu": statistics.median(cpu),
        "sql": statistics.median(sql),
        "queries": counts,
        "slowest": slowest,
        "bytes": len(response.content),
    }


def explain(sql: str) -> None:
    with connection.cursor() as c:
        c.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        for (line,) in c.fetchall():
            print(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("Warning: the benchmark is meant for PostgreSQL (make bench sets DATABASE_URL).")
    call_command("migrate", verbosity=0)
    heavy = ensure_book(args.customers)
    analyze_unanalyzed_tables()
    history = heavy.purchases.count() + heavy.interactions.count()
    admin = User.objects.get(username="admin")
    alice = User.objects.get(username="alice")
    smb = Segment.objects.get(name="SMB")
    book = Customer.objects.count()
    deep_at = min(500_000, book - 60)

    lists = reverse("customer-list")
    pages = [
        ("list", "admin", "Customer list, first page", lists),
        (
            "list",
            "admin",
            f"Customer list, after row {deep_at:,} (keyset)",
            f"{lists}?sort=name&cursor={deep_cursor(deep_at)}",
        ),
        ("list", "admin", "Customer list, search q=berg", f"{lists}?q=berg"),
        (
            "list",
            "admin",
            "Customer list, segment=SMB + stage=client",
            f"{lists}?segment={smb.pk}&stage=client",
        ),
        ("list", "alice", "Customer list, first page (alice, manager)", lists),
        (
            "detail",
            "admin",
            f"Customer page, {history:,} history rows",
            reverse("customer-detail", args=[heavy.pk]),
        ),
        *behind_pages(lists, smb),
    ]
    load_before = os.getloadavg()[0]
    clients = {"admin": Client(), "alice": Client()}
    clients["admin"].force_login(admin)
    clients["alice"].force_login(alice)

    print(
        f"\nBook: {book:,} customers. {args.requests} requests per page, in process "
        f"(django.test.Client), DEBUG off, {connection.vendor}.\n"
    )
    header = (
        f"{'Page':<48} {'median':>8} {'p99':>8} {'goal':>7} {'queries':>7} {'py cpu':>8} {'sql':>8}"
    )
    print(header)
    print("-" * len(header))
    results = []
    static = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES={**django.conf.settings.STORAGES, **static}):
        for kind, who, label, url in pages:
            r = measure(clients[who], url, args.requests)
            goal = GOALS_MS[kind]
            mark = "ok" if r["p99"] <= goal else "MISSED"
            queries = "/".join(str(c) for c in sorted(r["queries"]))
            print(
                f"{label:<48} {r['median']:>6.1f}ms {r['p99']:>6.1f}ms "
                f"{goal:>5.0f}ms {queries:>7} {r['cpu']:>6.1f}ms {r['sql']:>6.1f}ms  {mark}"
            )
            results.append((label, r))
    load = os.getloadavg()[0]
    print(
        f"\nLoad average after the run: {load:.1f} on {os.cpu_count()} cores "
        f"(was {load_before:.1f} before).\n"
        "median/p99: wall time per request. py cpu: median CPU time of the Django process "
        "(templates, ORM;\nmuch less affected by other processes). sql: median time spent waiting "
        "for the database.\n"
        "Queries: one number means every request ran the same queries (a/b if not).\n"
        "Slowest single query per page:"
    )
    for label, r in results:
        ms, sql = r["slowest"]
        print(f"  {label}: {ms:.1f} ms  {sql[:160]}")
        if args.explain and sql:
            explain(sql)


if __name__ == "__main__":
    main()
