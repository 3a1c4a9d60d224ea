"""Acquisition cohorts: who of each month's new customers is still buying, k months on."""

from __future__ import annotations

import numpy as np


def cohort_matrix(
    *,
    customer_cohort: np.ndarray,
    activity_customer: np.ndarray,
    activity_month: np.ndarray,
    activity_revenue: np.ndarray,
    n_months: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts and revenue of each acquisition cohort by months since acquisition.

    Months are integer indexes 0 .. n_months - 1 (for instance months since the
    start of the report window).

    - ``customer_cohort[i]``: the month customer i was acquired; negative for
      customers outside the window (prospects, or acquired before it): ignored.
    - ``activity_customer``, ``activity_month``, ``activity_revenue``: one row per
      purchase (or per customer-month), the customer's index and the month.

    Returns ``(counts, revenue, cohort_sizes)``:
    ``counts[c, k]`` is the number of distinct customers of cohort c who bought
    in month c + k, ``revenue[c, k]`` the sum of their purchases in that month
    (both n_months x n_months, zero where c + k is past the window), and
    ``cohort_sizes[c]`` the number of customers acquired in month c. Activity
    before a customer's acquisition month or outside the window is ignored.
    """
    if n_months < 0:
        raise ValueError("n_months must not be negative")
    customer_cohort = np.asarray(customer_cohort, dtype=np.int64)
    activity_customer = np.asarray(activity_customer, dtype=np.int64)
    activity_month = np.asarray(activity_month, dtype=np.int64)
    activity_revenue = np.asarray(activity_revenue, dtype=float)
    if not activity_customer.shape == activity_month.shape == activity_revenue.shape:
        raise ValueError("activity arrays must have the same length")
    if activity_customer.size and (
        activity_customer.min() < 0 or activity_customer.max() >= customer_cohort.size
    ):
        raise ValueError("activity_customer holds an index outside the customers")

    in_window = (customer_cohort >= 0) & (customer_cohort < n_months)
    cohort_sizes = np.bincount(customer_cohort[in_window], minlength=n_months)[:n_months]

    cohort = customer_cohort[activity_customer]
    since = activity_month - cohort
    keep = (
        (cohort >= 0)
        & (cohort < n_months)
        & (activity_month >= 0)
        & (activity_month < n_months)
        & (since >= 0)
    )
    cohort, since = cohort[keep], since[keep]
    customer, revenue_rows = activity_customer[keep], activity_revenue[keep]

    revenue = np.zeros((n_months, n_months), dtype=float)
    np.add.at(revenue, (cohort, since), np.nan_to_num(revenue_rows))

    # One count per distinct (customer, month): several purchases in a month are one active month.
    month = cohort + since
    _, first = np.unique(customer * max(n_months, 1) + month, return_index=True)
    counts = np.zeros((n_months, n_months), dtype=np.int64)
    np.add.at(counts, (cohort[first], since[first]), 1)
    return counts, revenue, cohort_sizes
