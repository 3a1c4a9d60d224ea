"""Retention rate, churn, lifetime and period arithmetic (Dawkins and Reichheld, 1990).

Dawkins, P. M. and Reichheld, F. F. (1990), "Customer retention as a competitive
weapon", Directors and Boards 14(4): the retention rate is the share of the
customers at the start of a period who are still customers at its end, and the
average customer lifetime follows from it as 1 / (1 - retention rate).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

PERIOD_KINDS = ("month", "quarter", "year")


@dataclass(frozen=True)
class RetentionFigures:
    """The retention figures of one period for one group of customers."""

    at_start: int
    retained: int
    new: int
    lost: int
    at_end: int
    retention_rate: float | None
    churn_rate: float | None
    expected_lifetime_periods: float | None
    revenue_start_cohort_prev: float
    revenue_start_cohort_curr: float
    revenue_retention: float | None


def customers_on(*, acquired: np.ndarray, churned: np.ndarray, day: np.datetime64) -> np.ndarray:
    """Boolean mask: who is a customer on ``day``.

    A customer on day D was acquired on or before D and has not churned by D
    (``churned`` is NaT, or later than D). A customer who churns on D is no longer
    a customer on D. NaT in ``acquired`` (a prospect) is never a customer.
    """
    acquired = np.asarray(acquired, dtype="datetime64[D]")
    churned = np.asarray(churned, dtype="datetime64[D]")
    day = day.astype("datetime64[D]")
    # Comparisons with NaT are False, so prospects (acquired NaT) drop out here.
    was_acquired = acquired <= day
    not_churned = np.isnat(churned) | (churned > day)
    return was_acquired & not_churned


def retention_figures(
    *,
    acquired: np.ndarray,
    churned: np.ndarray,
    period_start: np.datetime64,
    period_end: np.datetime64,
    revenue_prev: np.ndarray | None = None,
    revenue_curr: np.ndarray | None = None,
) -> RetentionFigures:
    """Retention figures of the period [period_start, period_end].

    - at_start: customers on ``period_start``;
    - retained: of those, customers on ``period_end``; lost = at_start - retained;
    - new: acquired in (period_start, period_end] and still customers on period_end;
    - at_end = retained + new;
    - retention_rate r = retained / at_start (None when at_start is 0),
      churn_rate = 1 - r, expected lifetime = 1 / (1 - r) periods (None when r is 1);
    - revenue retention: revenue in this period from the at_start customers
      divided by their revenue in the previous period (``revenue_prev`` and
      ``revenue_curr`` aligned with the customers; None when the denominator is 0).
    """
    acquired = np.asarray(acquired, dtype="datetime64[D]")
    churned = np.asarray(churned, dtype="datetime64[D]")
    if acquired.shape != churned.shape:
        raise ValueError("acquired and churned must have the same length")
    start = period_start.astype("datetime64[D]")
    end = period_end.astype("datetime64[D]")
    if end < start:
        raise ValueError("period_end is before period_start")

    on_start = customers_on(acquired=acquired, churned=churned, day=start)
    on_end = customers_on(acquired=acquired, churned=churned, day=end)
    acquired_within = (acquired > start) & (acquired <= end)

    at_start = int(on_start.sum())
    retained = int((on_start & on_end).sum())
    new = int((acquired_within & on_end).sum())
    lost = at_start - retained
    at_end = retained + new

    rate = retained / at_start if at_start else None
    churn = 1.0 - rate if rate is not None else None
    lifetime = None if rate is None or rate >= 1.0 else lifetime_from_retention(rate)

    rev_prev = rev_curr = 0.0
    revenue_retention = None
    if revenue_prev is not None and revenue_curr is not None:
        prev = np.asarray(revenue_prev, dtype=float)
        curr = np.asarray(revenue_curr, dtype=float)
        if prev.shape != acquired.shape or curr.shape != acquired.shape:
            raise ValueError("revenue arrays must be aligned with the customers")
        rev_prev = float(np.nansum(prev[on_start]))
        rev_curr = float(np.nansum(curr[on_start]))
        revenue_retention = rev_curr / rev_prev if rev_prev else None

    return RetentionFigures(
        at_start=at_start,
        retained=retained,
        new=new,
        lost=lost,
        at_end=at_end,
        retention_rate=rate,
        churn_rate=churn,
        expected_lifetime_periods=lifetime,
        revenue_start_cohort_prev=rev_prev,
        revenue_start_cohort_curr=rev_curr,
        revenue_retention=revenue_retention,
    )


def lifetime_from_retention(r: float) -> float:
    """Average customer lifetime in periods: 1 / (1 - r).

    80% retention gives 5 periods, 90% gives 10; r == 1 gives infinity (no one
    ever leaves). The lifetime is the mean of a geometric distribution: each
    period a customer leaves with probability 1 - r.
    """
    r = float(r)
    if math.isnan(r) or not 0.0 <= r <= 1.0:
        raise ValueError(f"retention rate must be between 0 and 1, got {r}")
    if r == 1.0:
        return math.inf
    return 1.0 / (1.0 - r)


def period_bounds(kind: str, containing: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (both inclusive) of the month, quarter or year containing a date."""
    if kind == "month":
        first_month, last_month = containing.month, containing.month
    elif kind == "quarter":
        first_month = 3 * ((containing.month - 1) // 3) + 1
        last_month = first_month + 2
    elif kind == "year":
        first_month, last_month = 1, 12
    else:
        raise ValueError(f"period kind must be one of {', '.join(PERIOD_KINDS)}, got {kind!r}")
    last_day = calendar.monthrange(containing.year, last_month)[1]
    return (
        dt.date(containing.year, first_month, 1),
        dt.date(containing.year, last_month, last_day),
    )


def previous_period(kind: str, start: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar period before the one starting on ``start``: the previous month,
    quarter or year, whatever its length (February before March, not "31 days back")."""
    return period_bounds(kind, start - dt.timedelta(days=1))


def periods_back(kind: str, end: dt.date, n: int) -> list[tuple[dt.date, dt.date]]:
    """The ``n`` periods ending with the one that contains ``end``, oldest first."""
    if n < 0:
        raise ValueError("n must not be negative")
    periods: list[tuple[dt.date, dt.date]] = []
    day = end
    for _ in range(n):
        bounds = period_bounds(kind, day)
        periods.append(bounds)
        day = bounds[0] - dt.timedelta(days=1)
    periods.reverse()
    return periods


def churn_dates(
    *,
    last_purchase: np.ndarray,
    acquired: np.ndarray,
    inactivity_days: np.ndarray,
    defected_on: np.ndarray,
    transactional: np.ndarray,
    as_of: np.datetime64,
) -> np.ndarray:
    """The day each customer churned, NaT for customers who have not.

    - An explicit defection (``defected_on`` set) is the churn date, whatever else.
    - Otherwise a customer churns by inactivity ``inactivity_days`` after their
      last purchase (or after acquisition when they never bought), provided that
      day is on or before ``as_of``.
    - Customers of a transactional ("fling") segment never churn by inactivity:
      they are not expected to come back, so silence is not defection; only an
      explicit defection counts for them.
    - A prospect (``acquired`` NaT and no purchase) never churns.
    """
    last_purchase = np.asarray(last_purchase, dtype="datetime64[D]")
    acquired = np.asarray(acquired, dtype="datetime64[D]")
    defected_on = np.asarray(defected_on, dtype="datetime64[D]")
    transactional = np.asarray(transactional, dtype=bool)
    days = np.asarray(inactivity_days)
    as_of = as_of.astype("datetime64[D]")

    base = np.where(np.isnat(last_purchase), acquired, last_purchase)
    # NaT + n stays NaT; a negative or missing window is treated as "no rule".
    valid_days = np.isfinite(days.astype(float)) & (days.astype(float) >= 0)
    window = np.where(valid_days, days.astype(float), 0).astype("int64").astype("timedelta64[D]")
    candidate = base + window
    by_inactivity = valid_days & ~transactional & ~np.isnat(candidate) & (candidate <= as_of)
    churned = np.where(by_inactivity, candidate, np.datetime64("NaT", "D"))
    return np.where(np.isnat(defected_on), churned, defected_on).astype("datetime64[D]")
