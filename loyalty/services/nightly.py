"""What the nightly loyalty job runs: release and expiry of points, the tier recompute, and
the run of one step for a date, at most once, under a lock, recorded."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from customers.errors import ValidationFailed

from ..models import LedgerEntry, LoyaltyRun, Membership, RunStatus
from .affinity import category_affinity_refresh
from .configuration import config_changes_apply
from .offers import offer_reach_refresh
from .tiers import tiers_recompute


def points_release_and_expire(*, run_date: dt.date) -> int:
    """Set-based: release pending points whose date has come, then expire every lot whose
    expiry date has come. The expiry entries' keys (expire:<lot id>) are unique, and an
    expired lot has nothing remaining, so a second run expires nothing."""
    m = Membership._meta.db_table
    e = LedgerEntry._meta.db_table
    now = timezone.now()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Lock the affected memberships in pk order, as redemptions do.
            cur.execute(
                # Two index-backed halves (an OR would scan the whole ledger).
                f"SELECT count(*) FROM (SELECT id FROM {m} WHERE id IN ("  # noqa: S608
                f"SELECT membership_id FROM {e} WHERE pending_until <= %s UNION "
                f"SELECT membership_id FROM {e} WHERE remaining > 0 AND pending_until IS NULL "
                f"AND expires_on <= %s) ORDER BY id FOR UPDATE) locked",
                [run_date, run_date],
            )
        cur.execute(
            f"UPDATE {m} SET balance = {m}.balance + s.total, pending_points = {m}.pending_points - s.total "  # noqa: S608
            f"FROM (SELECT membership_id, SUM(points) AS total FROM {e} WHERE pending_until <= %s "
            f"GROUP BY membership_id) s WHERE {m}.id = s.membership_id",
            [run_date],
        )
        cur.execute(f"UPDATE {e} SET pending_until = NULL WHERE pending_until <= %s", [run_date])  # noqa: S608
        cur.execute(
            f"UPDATE {m} SET balance = {m}.balance - s.total "  # noqa: S608
            f"FROM (SELECT membership_id, SUM(remaining) AS total FROM {e} WHERE remaining > 0 "
            f"AND pending_until IS NULL AND expires_on <= %s GROUP BY membership_id) s "
            f"WHERE {m}.id = s.membership_id",
            [run_date],
        )
        cur.execute(
            f"INSERT INTO {e} (membership_id, kind, points, remaining, idempotency_key, created_at, "  # noqa: S608
            f"effective_on, pending_until, expires_on, purchase_id, event_code, redemption_id, "
            f"reversed_entry_id, rule_id, actor_id, reason) "
            f"SELECT membership_id, 'expire', -remaining, 0, 'expire:' || CAST(id AS varchar(20)), %s, %s, NULL, NULL, "
            f"NULL, '', NULL, id, NULL, NULL, %s FROM {e} "
            f"WHERE remaining > 0 AND pending_until IS NULL AND expires_on <= %s",
            [now, run_date, f"Expired on {run_date:%Y-%m-%d}.", run_date],
        )
        expired = cur.rowcount
        cur.execute(
            f"UPDATE {e} SET remaining = 0 WHERE remaining > 0 AND pending_until IS NULL "  # noqa: S608
            f"AND expires_on <= %s",
            [run_date],
        )
    return expired


def _try_lock(step: str) -> bool:
    """One run of a step at a time: a transaction-scoped advisory lock on PostgreSQL;
    SQLite serialises writers itself (and the unique succeeded-run row backs it up)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", [zlib.crc32(f"loyalty:{step}".encode())]
        )
        return bool(cur.fetchone()[0])


STEPS: dict[str, Callable[..., int]] = {
    # Scheduled configuration changes first, so the night's expiry and tiers use them.
    "config": config_changes_apply,
    "expire": points_release_and_expire,
    "tiers": tiers_recompute,
    "affinity": category_affinity_refresh,
    "offers": offer_reach_refresh,
}


def nightly_step_run(*, step: str, run_date: dt.date) -> LoyaltyRun:
    """Run one nightly step for a date, at most once (a succeeded run is never repeated),
    under a lock, and record the run, whatever happens."""
    if step not in STEPS:
        raise ValidationFailed(
            f"Unknown step {step!r}; use one of {', '.join(STEPS)}.", field="step"
        )
    started = timezone.now()
    try:
        with transaction.atomic():
            if not _try_lock(step):
                status, rows, error = (
                    RunStatus.SKIPPED,
                    0,
                    "Another run of this step holds the lock.",
                )
            elif LoyaltyRun.objects.filter(
                step=step, run_date=run_date, status=RunStatus.SUCCEEDED
            ).exists():
                status, rows, error = RunStatus.SKIPPED, 0, "Already done for this date."
            else:
                rows = STEPS[step](run_date=run_date)
                return LoyaltyRun.objects.create(
                    step=step,
                    run_date=run_date,
                    started_at=started,
                    finished_at=timezone.now(),
                    rows=rows,
                    status=RunStatus.SUCCEEDED,
                )
    except Exception as exc:
        LoyaltyRun.objects.create(
            step=step,
            run_date=run_date,
            started_at=started,
            finished_at=timezone.now(),
            status=RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
        )
        raise
    return LoyaltyRun.objects.create(
        step=step,
        run_date=run_date,
        started_at=started,
        finished_at=timezone.now(),
        rows=rows,
        status=status,
        error=error,
    )
