"""Loyalty on the benchmark book: earning backfilled for every purchase, then the nightly
steps over every membership. Prints times; it does not pass or fail.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/loyalty_bench.py

Needs the bench book (1M customers, ~10M purchases; bench/customer_pages.py seeds it).
Creates (or, with --reset, recreates) the program "Bench club": 1 point per EUR, points
expire 12 months after earning, tiers on points earned over 365 days. Steps timed:
1. points_backfill: one INSERT ... SELECT of a lot per purchase (idempotent), memberships
   for every buyer, balances recomputed from the ledger;
2. the same backfill again (every purchase already earned: nothing inserted);
3. the nightly expiry for today: a catch-up night that expires every lot older than
   12 months across the book, then the same date again (skipped) and the next night;
4. tier recomputation over every membership;
5. the drift audit (balance == ledger sum for every membership).
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

from customers.models import Customer, Purchase, Role, User  # noqa: E402
from loyalty.models import LedgerEntry, LoyaltyRun, Membership, Program, Tier  # noqa: E402
from loyalty.selectors import ledger_drift  # noqa: E402
from loyalty.services import nightly_step_run, points_backfill, tiers_recompute  # noqa: E402

NAME = "Bench club"


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<58} {time.perf_counter() - start:8.1f} s   {result}", flush=True)
    return result


def reset(program: Program) -> None:
    m, e, t = Membership._meta.db_table, LedgerEntry._meta.db_table, "loyalty_tierchange"
    with connection.cursor() as cur:
        # Bench-only teardown of its own program: the app itself never deletes ledger rows.
        cur.execute(
            f"DELETE FROM {t} WHERE membership_id IN (SELECT id FROM {m} WHERE program_id = %s)",  # noqa: S608
            [program.pk],
        )
        cur.execute(
            f"DELETE FROM {e} WHERE membership_id IN (SELECT id FROM {m} WHERE program_id = %s)",  # noqa: S608
            [program.pk],
        )
        cur.execute(f"DELETE FROM {m} WHERE program_id = %s", [program.pk])  # noqa: S608
    Program.objects.filter(pk=program.pk).delete()
    LoyaltyRun.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="Drop the bench program's data first.")
    parser.add_argument(
        "--nightly-only",
        action="store_true",
        help="Skip the backfill (already done): time the nightly steps.",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (DATABASE_URL=postgres://.../crm_bench).")
    call_command("migrate", "loyalty", verbosity=0)
    customers = Customer.objects.count()
    purchases = Purchase.objects.count()
    print(f"Book: {customers:,} customers, {purchases:,} purchases")
    if customers < 100_000:
        sys.exit("The bench book is not seeded; run bench/customer_pages.py first.")
    existing = Program.objects.filter(name=NAME).first()
    if existing and args.reset:
        timed("reset the bench program", lambda: reset(existing))
        existing = None
    admin = User.objects.filter(
        role=Role.ADMIN, is_active=True
    ).first() or User.objects.create_user("bench-admin", role=Role.ADMIN)
    first = Purchase.objects.order_by("occurred_at").values_list("occurred_at", flat=True).first()
    program = existing or Program.objects.create(
        name=NAME,
        points_name="points",
        currency="EUR",
        points_per_unit=1,
        starts_on=timezone.localdate(first) if first else timezone.localdate(),
        join_on_first_purchase=False,
        expiry_policy="months",
        expiry_months=12,
        qualification_days=365,
        downgrade_policy="end_of_window",
    )
    if not existing:
        Tier.objects.bulk_create(
            [
                Tier(program=program, name="Base", threshold=0),
                Tier(program=program, name="Silver", threshold=2000, multiplier="1.25"),
                Tier(program=program, name="Gold", threshold=10000, multiplier="1.5"),
            ]
        )
    earned = 0
    if not args.nightly_only:
        earned = timed(
            "backfill earning for every purchase",
            lambda: points_backfill(program=program, actor=admin),
        )
        timed(
            "backfill again (each purchase earns once)",
            lambda: points_backfill(program=program, actor=admin),
        )
    members = Membership.objects.filter(program=program).count()
    print(
        f"Memberships: {members:,}; lots earned this run: {earned:,}; lots in the ledger: "
        f"{LedgerEntry.objects.filter(membership__program=program).count():,}"
    )

    def analyze() -> str:
        # What autovacuum does between a backfill and the night; stale statistics after
        # ten million new rows would make the planner skip the partial indexes.
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE loyalty_ledgerentry")
            cur.execute("VACUUM ANALYZE loyalty_membership")
        return "ok"

    timed("vacuum analyze the loyalty tables", analyze)
    today = timezone.localdate()
    LoyaltyRun.objects.filter(run_date__in=[today, today + dt.timedelta(days=1)]).delete()
    timed(
        "nightly expiry, catch-up night (all lots > 12 months)",
        lambda: nightly_step_run(step="expire", run_date=today).rows,
    )
    timed(
        "nightly expiry, same date again (skipped)",
        lambda: nightly_step_run(step="expire", run_date=today).status,
    )
    timed(
        "nightly expiry, the next night",
        lambda: nightly_step_run(step="expire", run_date=today + dt.timedelta(days=1)).rows,
    )
    timed("vacuum analyze the loyalty tables", analyze)
    timed(
        "tier recomputation over every membership",
        lambda: nightly_step_run(step="tiers", run_date=today).rows,
    )
    timed("tier recomputation, forced again (no change)", lambda: tiers_recompute(run_date=today))
    timed("drift audit over every membership", lambda: ledger_drift().count())


if __name__ == "__main__":
    main()
