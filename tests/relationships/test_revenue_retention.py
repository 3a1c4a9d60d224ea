"""Revenue retention through the whole nightly path: purchase rows -> the metrics step's
month sums -> RetentionSnapshot, against figures worked out by hand. The denominator is
the previous calendar period (February before March, Q2 before Q3), whatever its length."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from relationships import nightly
from relationships.models import CutKind, PeriodKind, RetentionSnapshot
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory

RUN = dt.date(2024, 4, 1)  # the last full day is 31 March 2024; 2024 is a leap year

PURCHASES = [  # (day, amount)
    (dt.date(2023, 3, 20), "500.00"),  # March 2023: before Q2 2023, so in no window below
    (dt.date(2023, 5, 5), "250.00"),  # Q2 2023
    (dt.date(2023, 8, 8), "300.00"),  # Q3 2023
    (dt.date(2023, 9, 30), "1000.00"),  # Q3 2023
    (dt.date(2023, 10, 2), "100.00"),  # Q4 2023
    (dt.date(2023, 12, 15), "400.00"),  # Q4 2023
    (dt.date(2024, 1, 31), "100.00"),  # January 2024
    (dt.date(2024, 2, 29), "200.00"),  # February 2024, its leap day
    (dt.date(2024, 3, 5), "150.00"),  # March 2024
]


@pytest.fixture
def book(db):
    segment = SegmentFactory(name="Subscribers", inactivity_days=3650)
    customer = CustomerFactory(segment=segment, acquired_on=dt.date(2023, 1, 1), stage="client")
    for day, amount in PURCHASES:
        PurchaseFactory(
            customer=customer,
            amount=Decimal(amount),
            occurred_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
        )
    nightly.nightly_run(run_date=RUN, mode="full")


def revenue_retention(kind: str, start: dt.date) -> float:
    return RetentionSnapshot.objects.get(
        run_date=RUN, period_kind=kind, period_start=start, cut_kind=CutKind.ALL
    ).revenue_retention


@pytest.mark.usefixtures("book")
def test_revenue_retention_divides_by_the_previous_calendar_period():
    # March 2024: 150 in March over 200 in February (29 days), not February plus January.
    assert revenue_retention(PeriodKind.MONTH, dt.date(2024, 3, 1)) == pytest.approx(0.75)
    # February 2024 (a leap-year February): 200 over January's 100.
    assert revenue_retention(PeriodKind.MONTH, dt.date(2024, 2, 1)) == pytest.approx(2.0)
    # Q3 2023: 1,300 over Q2's 250; the 500 of March 2023 is not Q2's.
    assert revenue_retention(PeriodKind.QUARTER, dt.date(2023, 7, 1)) == pytest.approx(5.2)
    # Q1 2024: 450 over Q4 2023's 500.
    assert revenue_retention(PeriodKind.QUARTER, dt.date(2024, 1, 1)) == pytest.approx(0.9)
    # The year 2023 has no revenue in 2022 to compare with: no figure rather than infinity.
    assert revenue_retention(PeriodKind.YEAR, dt.date(2023, 1, 1)) is None
