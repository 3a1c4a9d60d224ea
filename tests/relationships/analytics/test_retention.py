import datetime as dt
import math

import numpy as np
import pytest

from relationships.analytics.retention import (
    churn_dates,
    customers_on,
    lifetime_from_retention,
    period_bounds,
    periods_back,
    previous_period,
    retention_figures,
)

NAT = "NaT"


def days(*values):
    return np.array(values, dtype="datetime64[D]")


# A small book, period = Q1 2026 (2026-01-01 .. 2026-03-31):
#   0 Ada    acquired 2025-03-01, never churned            -> at start, retained
#   1 Ben    acquired 2025-06-10, churned 2026-02-15       -> at start, lost
#   2 Cleo   acquired 2026-01-01 (first day), never        -> at start (acquired <= start), retained
#   3 Dan    acquired 2026-02-01, never                    -> new
#   4 Eve    acquired 2026-02-20, churned 2026-03-31       -> churned ON the end day: not new
#   5 Finn   acquired 2025-01-05, churned 2025-12-31       -> gone before the period
#   6 Gus    prospect (NaT)                                -> nobody
#   7 Hana   acquired 2025-11-30, churned 2026-01-01       -> churned on the start day: not at start
#   8 Ivo    acquired 2025-12-01, churned 2026-04-02       -> at start, retained (churns after the end)
#   9 Jo     acquired 2026-04-01 (after the period)        -> nobody
ACQUIRED = days(
    "2025-03-01", "2025-06-10", "2026-01-01", "2026-02-01", "2026-02-20",
    "2025-01-05", NAT, "2025-11-30", "2025-12-01", "2026-04-01",
)  # fmt: skip
CHURNED = days(
    NAT, "2026-02-15", NAT, NAT, "2026-03-31",
    "2025-12-31", NAT, "2026-01-01", "2026-04-02", NAT,
)  # fmt: skip
# Revenue of each customer in Q4 2025 (previous period) and Q1 2026 (this period).
REVENUE_PREV = np.array([100.0, 50.0, 0.0, 0.0, 0.0, 70.0, 0.0, 30.0, 50.0, 0.0])
REVENUE_CURR = np.array([120.0, 10.0, 40.0, 25.0, 15.0, 0.0, 0.0, 0.0, 20.0, 0.0])


def test_customers_on_a_day_counts_acquisition_day_but_not_churn_day():
    mask = customers_on(acquired=ACQUIRED, churned=CHURNED, day=np.datetime64("2026-01-01"))

    # Ada, Ben, Cleo (acquired that day) and Ivo; not Hana (churned that day), not Finn.
    assert np.flatnonzero(mask).tolist() == [0, 1, 2, 8]


def test_retention_figures_of_a_small_book_by_hand():
    figures = retention_figures(
        acquired=ACQUIRED,
        churned=CHURNED,
        period_start=np.datetime64("2026-01-01"),
        period_end=np.datetime64("2026-03-31"),
        revenue_prev=REVENUE_PREV,
        revenue_curr=REVENUE_CURR,
    )

    assert figures.at_start == 4  # Ada, Ben, Cleo, Ivo
    assert figures.retained == 3  # Ada, Cleo, Ivo
    assert figures.lost == 1  # 4 - 3 (Ben)
    assert figures.new == 1  # Dan; Eve churned on the last day
    assert figures.at_end == 4  # 3 retained + 1 new
    assert figures.retention_rate == pytest.approx(0.75)  # 3 / 4
    assert figures.churn_rate == pytest.approx(0.25)  # 1 - 0.75
    assert figures.expected_lifetime_periods == pytest.approx(4.0)  # 1 / (1 - 0.75)
    # Revenue of the four at-start customers only: prev 100 + 50 + 0 + 50 = 200,
    # curr 120 + 10 + 40 + 20 = 190; 190 / 200 = 0.95.
    assert figures.revenue_start_cohort_prev == pytest.approx(200.0)
    assert figures.revenue_start_cohort_curr == pytest.approx(190.0)
    assert figures.revenue_retention == pytest.approx(0.95)


def test_retention_figures_of_an_empty_start_have_no_rate():
    figures = retention_figures(
        acquired=days("2026-02-01"),
        churned=days(NAT),
        period_start=np.datetime64("2026-01-01"),
        period_end=np.datetime64("2026-03-31"),
    )

    assert (figures.at_start, figures.new, figures.at_end) == (0, 1, 1)
    assert figures.retention_rate is None
    assert figures.churn_rate is None
    assert figures.expected_lifetime_periods is None
    assert figures.revenue_retention is None


def test_full_retention_has_no_finite_lifetime_and_zero_revenue_base_has_no_ratio():
    figures = retention_figures(
        acquired=days("2025-01-01", "2025-02-01"),
        churned=days(NAT, NAT),
        period_start=np.datetime64("2026-01-01"),
        period_end=np.datetime64("2026-01-31"),
        revenue_prev=np.array([0.0, 0.0]),
        revenue_curr=np.array([10.0, 0.0]),
    )

    assert figures.retention_rate == 1.0
    assert figures.churn_rate == 0.0
    assert figures.expected_lifetime_periods is None
    assert figures.revenue_start_cohort_curr == 10.0
    assert figures.revenue_retention is None


def test_retention_figures_reject_bad_input():
    with pytest.raises(ValueError, match="same length"):
        retention_figures(
            acquired=days("2025-01-01"),
            churned=days(NAT, NAT),
            period_start=np.datetime64("2026-01-01"),
            period_end=np.datetime64("2026-01-31"),
        )
    with pytest.raises(ValueError, match="before"):
        retention_figures(
            acquired=days("2025-01-01"),
            churned=days(NAT),
            period_start=np.datetime64("2026-02-01"),
            period_end=np.datetime64("2026-01-31"),
        )


@pytest.mark.parametrize(
    ("rate", "lifetime"),
    [(0.8, 5.0), (0.9, 10.0), (0.5, 2.0), (0.0, 1.0), (1.0, math.inf)],
)
def test_lifetime_from_retention(rate, lifetime):
    assert lifetime_from_retention(rate) == pytest.approx(lifetime)


@pytest.mark.parametrize("rate", [-0.1, 1.01, float("nan")])
def test_lifetime_from_retention_rejects_rates_outside_0_1(rate):
    with pytest.raises(ValueError, match="between 0 and 1"):
        lifetime_from_retention(rate)


@pytest.mark.parametrize(
    ("kind", "day", "bounds"),
    [
        ("month", dt.date(2024, 2, 10), (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("month", dt.date(2026, 12, 31), (dt.date(2026, 12, 1), dt.date(2026, 12, 31))),
        ("quarter", dt.date(2026, 5, 15), (dt.date(2026, 4, 1), dt.date(2026, 6, 30))),
        ("quarter", dt.date(2026, 12, 1), (dt.date(2026, 10, 1), dt.date(2026, 12, 31))),
        ("year", dt.date(2026, 7, 4), (dt.date(2026, 1, 1), dt.date(2026, 12, 31))),
    ],
)
def test_period_bounds(kind, day, bounds):
    assert period_bounds(kind, day) == bounds


def test_period_bounds_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="month, quarter, year"):
        period_bounds("week", dt.date(2026, 1, 1))


def test_periods_back_lists_oldest_first_across_a_year_end():
    assert periods_back("month", dt.date(2026, 2, 14), 3) == [
        (dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    ]
    assert periods_back("quarter", dt.date(2026, 2, 14), 2) == [
        (dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    ]
    assert periods_back("year", dt.date(2026, 2, 14), 0) == []


def test_churn_dates_by_inactivity_defection_and_segment_kind():
    as_of = np.datetime64("2026-06-30")
    acquired = days(
        "2025-06-01", "2025-06-01", "2026-02-01", "2025-06-01",
        "2024-12-01", "2024-12-01", NAT,
    )  # fmt: skip
    churned = churn_dates(
        last_purchase=days(
            "2026-01-10",  # 0: + 90 = 2026-04-10 <= as_of -> churned then
            "2026-05-01",  # 1: + 90 = 2026-07-30 > as_of -> still a customer
            NAT,  # 2: never bought; acquired 2026-02-01 + 90 = 2026-05-02
            "2026-01-10",  # 3: explicit defection wins over inactivity
            "2025-01-01",  # 4: transactional: long silence is not churn
            "2025-01-01",  # 5: transactional but defected
            NAT,  # 6: prospect: never churns
        ),
        acquired=acquired,
        inactivity_days=np.array([90, 90, 90, 90, 90, 90, 90]),
        defected_on=days(NAT, NAT, NAT, "2026-03-03", NAT, "2025-02-02", NAT),
        transactional=np.array([False, False, False, False, True, True, False]),
        as_of=as_of,
    )

    assert churned.dtype == np.dtype("datetime64[D]")
    assert [str(d) for d in churned] == [
        "2026-04-10",
        "NaT",
        "2026-05-02",
        "2026-03-03",
        "NaT",
        "2025-02-02",
        "NaT",
    ]


def test_churn_dates_feed_retention_figures():
    # Bought on 2026-01-10 with a 30-day window -> churned 2026-02-09; the
    # other bought on 2026-03-20 -> still a customer on 2026-03-31.
    acquired = days("2025-12-01", "2025-12-01")
    churned = churn_dates(
        last_purchase=days("2026-01-10", "2026-03-20"),
        acquired=acquired,
        inactivity_days=np.array([30, 30]),
        defected_on=days(NAT, NAT),
        transactional=np.array([False, False]),
        as_of=np.datetime64("2026-03-31"),
    )
    figures = retention_figures(
        acquired=acquired,
        churned=churned,
        period_start=np.datetime64("2026-01-01"),
        period_end=np.datetime64("2026-03-31"),
    )

    assert (figures.at_start, figures.retained, figures.lost) == (2, 1, 1)
    assert figures.retention_rate == pytest.approx(0.5)


def test_previous_period_is_the_calendar_period_before_whatever_its_length():
    assert previous_period("month", dt.date(2024, 3, 1)) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
    )
    assert previous_period("month", dt.date(2023, 3, 1)) == (
        dt.date(2023, 2, 1),
        dt.date(2023, 2, 28),
    )
    assert previous_period("quarter", dt.date(2026, 7, 1)) == (
        dt.date(2026, 4, 1),
        dt.date(2026, 6, 30),
    )
    assert previous_period("quarter", dt.date(2026, 1, 1)) == (
        dt.date(2025, 10, 1),
        dt.date(2025, 12, 31),
    )
    assert previous_period("year", dt.date(2024, 1, 1)) == (
        dt.date(2023, 1, 1),
        dt.date(2023, 12, 31),
    )
