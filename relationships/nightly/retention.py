"""The retention step: RetentionSnapshot rows per month, quarter and year x cut, from the
per-customer arrays (no query per cut or period); and the calendar-month spans whose
revenue the metrics step sums for it."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import numpy as np

from customers.dates import local_midnight, month_index

from ..analytics.retention import churn_dates, periods_back, previous_period, retention_figures
from ..models import CutKind, RelationshipType, RetentionSnapshot, RunMode
from .context import BATCH, PERIODS, RunContext, to_dates
from .write import settle


def _lifetime(value: float | None) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def step_retention(ctx: RunContext) -> int:
    if ctx.mode == RunMode.INCREMENTAL:
        # Retention is about months, quarters and years: the latest full run's snapshots
        # stay (the dashboard reads the newest run that has them), and a new month always
        # gets a full run (_incremental_blocker).
        return 0
    d = ctx.data
    last_day = ctx.run_date - dt.timedelta(days=1)  # the last full day of data
    acquired, churned = d["customer_since"], d["churned_on"]

    periods = _retention_periods(ctx)
    month_rev = _monthly_revenue(d)

    # Each cut's customers, sliced once rather than once per period.
    cuts = [
        (kind, key, label, idx, acquired[idx], churned[idx])
        for kind, key, label, mask in _cuts(d, acquired)
        for idx in [np.flatnonzero(mask)]
    ]
    snapshots: list[RetentionSnapshot] = []
    for kind, bounds in periods.items():
        for start, end in bounds:
            rev_curr = month_rev(start, end)
            rev_prev = month_rev(*previous_period(kind, start))
            for cut_kind, cut_key, label, idx, cut_acquired, cut_churned in cuts:
                figures = retention_figures(
                    acquired=cut_acquired,
                    churned=cut_churned,
                    period_start=np.datetime64(start, "D"),
                    period_end=np.datetime64(min(end, last_day), "D"),
                    revenue_prev=rev_prev[idx],
                    revenue_curr=rev_curr[idx],
                )
                if cut_kind == CutKind.COHORT and figures.at_start == 0 and figures.new == 0:
                    continue  # a cohort not yet acquired in this period
                snapshots.append(
                    RetentionSnapshot(
                        run_date=ctx.run_date,
                        period_kind=kind,
                        period_start=start,
                        period_end=end,
                        cut_kind=cut_kind,
                        cut_key=cut_key,
                        cut_label=label[:200],
                        at_start=figures.at_start,
                        retained=figures.retained,
                        new=figures.new,
                        lost=figures.lost,
                        retention_rate=figures.retention_rate,
                        churn_rate=figures.churn_rate,
                        lifetime_periods=_lifetime(figures.expected_lifetime_periods),
                        revenue_retention=figures.revenue_retention,
                    )
                )
    settle(ctx)  # the database is free again
    RetentionSnapshot.objects.filter(run_date=ctx.run_date).delete()
    RetentionSnapshot.objects.bulk_create(snapshots, batch_size=BATCH)
    return len(snapshots)


def retention_dates(d: dict, run_date: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's acquisition day (acquired_on, else the first purchase day) and churn
    day (NaT: not churned) as of the day before ``run_date``: the two dates the snapshots
    are counted from. The scores step works them out so the metrics rows store them too
    (the customers behind a number are found with them)."""
    last_day = run_date - dt.timedelta(days=1)  # the last full day of data
    first_purchase = to_dates(d["first"])
    last_purchase = to_dates(d["last"])
    acquired = np.where(np.isnat(d["acquired_on"]), first_purchase, d["acquired_on"])
    # A defected customer with no defection record churned when they last bought.
    defected = d["defected_on"].copy()
    no_record = d["defected_status"] & np.isnat(defected)
    defected[no_record] = np.where(
        np.isnat(last_purchase[no_record]), acquired[no_record], last_purchase[no_record]
    )
    churned = churn_dates(
        last_purchase=last_purchase,
        acquired=acquired,
        inactivity_days=d["inactivity_days"],
        defected_on=defected,
        transactional=~d["expects_repeat"],
        as_of=np.datetime64(last_day, "D"),
    )
    return acquired, churned


def _retention_periods(ctx: RunContext) -> dict[str, list[tuple[dt.date, dt.date]]]:
    last_day = ctx.run_date - dt.timedelta(days=1)  # the last full day of data
    return {kind: periods_back(kind, last_day, count) for kind, count in PERIODS}


def _retention_windows(ctx: RunContext) -> list[tuple[dt.date, dt.date]]:
    """Every (start, end) whose revenue step_retention asks for: each period and the
    calendar period before it."""
    windows = []
    for kind, bounds in _retention_periods(ctx).items():
        for start, end in bounds:
            windows += [(start, end), previous_period(kind, start)]
    return windows


def retention_months(ctx: RunContext) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """The spans of whole calendar months (in the book's time zone) whose revenue the retention step needs,
    as (first month index, start, end): cut at every edge of a window, so each window is
    a run of consecutive spans. Fewer columns than one per month (the yearly windows
    need no monthly detail), and each is a FILTER that every purchase row is tested on."""
    windows = _retention_windows(ctx)
    edges = sorted(
        {month_index(lo) for lo, _ in windows} | {month_index(hi) + 1 for _, hi in windows}
    )

    def month_start(m: int) -> dt.datetime:
        return local_midnight(dt.date(m // 12, m % 12 + 1, 1))

    return [(lo, month_start(lo), month_start(hi)) for lo, hi in itertools.pairwise(edges)]


def _monthly_revenue(d: dict) -> Callable:
    """Revenue per customer over whole calendar months, from the per-span sums the
    metrics step took in its single pass: (start, end) -> revenue per customer."""
    month_rev, firsts = d["month_rev"], d["month_index"]
    position = {m: i for i, m in enumerate(firsts)}

    def revenue(start: dt.date, end: dt.date) -> np.ndarray:
        lo = position[month_index(start)]
        hi = position.get(month_index(end) + 1, len(firsts))
        return month_rev[:, lo:hi].sum(axis=1)

    return revenue


def _cuts(d: dict, acquired: np.ndarray) -> list[tuple[str, str, str, np.ndarray]]:
    n = d["ids"].size
    cuts: list[tuple[str, str, str, np.ndarray]] = [
        (CutKind.ALL, "", "Whole book", np.ones(n, dtype=bool))
    ]
    for seg_id in np.unique(d["segment"]):
        name = d["segment_names"].get(int(seg_id), "No segment")
        cuts.append((CutKind.SEGMENT, str(int(seg_id)), name, d["segment"] == seg_id))
    labels = dict(RelationshipType.choices)
    for code in RelationshipType.values:
        segs = [k for k, s in d["strategies"].items() if code in (s.relationship_types or [])]
        if segs:
            cuts.append(
                (CutKind.RELATIONSHIP_TYPE, code, labels[code], np.isin(d["segment"], segs))
            )
    managers = d["manager_names"]
    for mgr in np.unique(d["manager"]):
        label = managers.get(int(mgr), "No account manager")
        cuts.append((CutKind.ACCOUNT_MANAGER, str(int(mgr)), label, d["manager"] == mgr))
    year_keys = np.where(
        np.isnat(acquired), 0, acquired.astype("datetime64[Y]").astype(np.int64) + 1970
    )
    for year in np.unique(year_keys):
        if year:
            cuts.append(
                (CutKind.COHORT, str(int(year)), f"Acquired in {int(year)}", year_keys == year)
            )
    return cuts
