"""What every module of the nightly run shares: its context object, errors, constants,
the settings it reads, and a few array helpers. Imports nothing else of the package."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from customers.dates import local_midnight
from customers.errors import Conflict

from ..models import NightlyRun, PeriodKind, RunMode

BATCH = 2000
LOCK_KEY = 727_001  # pg advisory lock id of the nightly run
STALE_RUN = dt.timedelta(hours=6)  # a "running" row older than this is a crashed run
FIT_SAMPLE = 50_000  # customers the models are fitted on (a seeded sample beyond that)
PERIODS = ((PeriodKind.MONTH, 12), (PeriodKind.QUARTER, 8), (PeriodKind.YEAR, 3))
# For this transaction only (SET LOCAL). work_mem: the per-customer hash aggregates over
# 1M groups fit in memory instead of spilling to disk at the default 4MB (and the index
# rebuilds sort in memory). JIT stays on: it made the purchases pass ~10% faster (its
# FILTER aggregates are expression evaluation). synchronous_commit: a crash right after
# the commit can at worst lose the run itself (never corrupt anything); it is rerun.
SESSION_SETTINGS = (
    "work_mem = '256MB'",
    "maintenance_work_mem = '256MB'",
    "synchronous_commit = off",
)
NAT = np.datetime64("NaT", "D")


def risk_threshold() -> int:
    return int(settings.CRM_RISK_THRESHOLD)


def holdout_days() -> int:
    return int(settings.CRM_HOLDOUT_DAYS)


class NightlyRunBusy(Conflict):
    pass


class IncrementalNotPossible(Conflict):
    pass


@dataclass
class RunContext:
    run_date: dt.date
    as_of: dt.datetime  # midnight at the start of run_date, local time
    rows: dict[str, int] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    mode: str = RunMode.FULL
    mode_reason: str = ""
    previous: NightlyRun | None = None  # the last successful run before this one
    full_date: dt.date | None = None  # the full night the summaries go back to (its fit is reused)
    changed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # customer ids
    watermarks: dict = field(default_factory=dict)
    # A full night's metrics UPDATE, left running while retention is computed (settle).
    pending: tuple | None = None

    def previous_run(self) -> NightlyRun:
        """The last successful run; only an incremental night (which has one) asks."""
        if self.previous is None:
            raise RuntimeError("an incremental night needs the run before it")
        return self.previous

    def full_run_date(self) -> dt.date:
        """The day of the full night this incremental one goes back to."""
        if self.full_date is None:
            raise RuntimeError("an incremental night needs the full night it goes back to")
        return self.full_date


# Summary arrays and what a customer with no rows gets.
# "count", "first" and "last" are purchases and their moments (days since 1970, for the
# pages and the ladder); the models read purchase days ("days", "first_day", "last_day":
# local dates as days since 1970) and the spend on days after the first ("repeat_revenue").
SUMMARY_DEFAULTS = {
    "count": 0.0,
    "revenue": 0.0,
    "first": np.nan,
    "last": np.nan,
    "days": 0.0,
    "first_day": np.nan,
    "last_day": np.nan,
    "repeat_revenue": 0.0,
    "cal_days": 0.0,
    "cal_first_day": np.nan,
    "cal_last_day": np.nan,
    "revenue_12m": 0.0,
    "complaints_30d": 0.0,
    "last_contact": np.nan,
    "points_unused_since": np.nan,
    "praise": 0.0,  # positive feedback interactions (the ladder's supporter rule)
    "community_90d": 0.0,  # community contributions in the 90 days before the run
}


def positions(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``wanted`` sits in the sorted ``ids``: (positions of the ones
    present, mask over ``wanted`` of which are present)."""
    where = np.searchsorted(ids, wanted)
    found = where < ids.size
    found[found] = ids[where[found]] == wanted[found]
    return where[found], found


def to_dates(days: np.ndarray) -> np.ndarray:
    """Days since 1970 (float, NaN for none) -> datetime64[D] (NaT for none), vectorised."""
    out = np.full(days.shape, NAT, dtype="datetime64[D]")
    known = np.isfinite(days)
    out[known] = np.floor(days[known]).astype(np.int64).astype("datetime64[D]")
    return out


def epoch_day(day: dt.date) -> int:
    """A local date as days since 1970-01-01 (how the purchase-day arrays count)."""
    return (day - dt.date(1970, 1, 1)).days


# A run's "as of": the midnight that starts its run date, in the book's time zone.
run_date_as_of = local_midnight
