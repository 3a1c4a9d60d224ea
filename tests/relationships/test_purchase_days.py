"""The purchase models count purchase days in the book's time zone ([FHL05], [FH13]):
several items bought on one day are one purchase, and Gamma-Gamma's spend per purchase is
the mean over the repeat days. Worked by hand, from purchase rows to the stored figures."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.models import Customer, Purchase
from relationships.models import CustomerMetrics
from relationships.nightly import RunContext, run_date_as_of
from relationships.nightly.fit import _summaries_for_models
from relationships.nightly.loading import step_metrics
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory

NEW_YORK = "America/New_York"
RUN = dt.date(2026, 4, 30)


def bought(customer, local: str, amount: str) -> Purchase:
    """A purchase at a wall-clock time in New York (the book's time zone here)."""
    moment = dt.datetime.fromisoformat(local).replace(tzinfo=zoneinfo.ZoneInfo(NEW_YORK))
    return PurchaseFactory(customer=customer, occurred_at=moment, amount=Decimal(amount))


@pytest.fixture
def new_york(db, settings):
    settings.TIME_ZONE = NEW_YORK
    with timezone.override(NEW_YORK):
        yield


@pytest.fixture
def worked(new_york):
    """Five purchases on three New York days; two of them fall on another day in UTC."""
    customer = CustomerFactory(name="Worked")
    bought(customer, "2026-03-01T09:00", "20.00")
    bought(customer, "2026-03-01T21:30", "30.00")  # 02:30 UTC on 2 March: still 1 March here
    bought(customer, "2026-03-11T23:00", "40.00")  # 03:00 UTC on 12 March (daylight time)
    bought(customer, "2026-03-31T10:00", "60.00")
    bought(customer, "2026-03-31T11:00", "20.00")
    return customer


def summaries(customer: Customer) -> dict:
    ctx = RunContext(run_date=RUN, as_of=run_date_as_of(RUN))
    step_metrics(ctx)
    _summaries_for_models(ctx)
    i = int(np.searchsorted(ctx.data["ids"], customer.pk))
    names = ("count", "revenue", "days", "frequency", "recency", "T", "monetary")
    return {name: float(ctx.data[name][i]) for name in names}


def test_the_models_see_purchase_days_worked_by_hand(worked):
    got = summaries(worked)

    assert got["count"] == 5  # what the pages show: five purchases, 170.00
    assert got["revenue"] == pytest.approx(170.0)
    assert got["days"] == 3  # 1 March (50.00), 11 March (40.00), 31 March (80.00)
    assert got["frequency"] == 2  # repeat purchase days
    assert got["recency"] == 30  # 1 March to 31 March
    assert got["T"] == 60  # 1 March to the run date's midnight, 30 April
    # Gamma-Gamma's spend per purchase: the repeat days only, (40 + 80) / 2.
    assert got["monetary"] == pytest.approx(60.0)


def test_a_customer_with_purchases_on_the_first_day_only_has_no_repeat(new_york):
    once = CustomerFactory(name="Once")
    for hour, amount in ((9, "10.00"), (10, "15.00"), (12, "5.00"), (18, "70.00"), (23, "1.00")):
        bought(once, f"2026-04-02T{hour:02d}:00", amount)

    got = summaries(once)

    assert got["count"] == 5
    assert got["days"] == 1
    assert got["frequency"] == 0
    assert got["recency"] == 0
    assert np.isnan(got["monetary"])  # Gamma-Gamma gives them the population mean


@pytest.fixture
def book_to_fit(new_york):
    """Enough customers with repeat purchase days for the models to be fitted."""
    rng = np.random.default_rng(7)
    segment = SegmentFactory(name="Shoppers")
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"Shopper {k}",
            email=f"shopper{k}@example.com",
            segment=segment,
            stage="customer",
            acquired_on=dt.date(2025, 1, 1),
        )
        for k in range(60)
    )
    rows = []
    for k, customer in enumerate(customers):
        first = rng.integers(100, 450)
        gaps = rng.exponential(40, size=rng.integers(0, 8))
        for j, back in enumerate(first - np.cumsum(np.r_[0, gaps])):
            if back < 1:
                break
            rows.append(
                Purchase(
                    customer=customer,
                    reference=f"B{k}-{j}",
                    amount=Decimal(f"{rng.uniform(20, 200):.2f}"),
                    occurred_at=run_date_as_of(RUN) - dt.timedelta(days=float(back)),
                )
            )
    Purchase.objects.bulk_create(rows)


def test_first_day_only_buyer_is_alive_and_their_gap_counts_days(book_to_fit, worked):
    once = CustomerFactory(name="Once")
    for hour in (9, 11, 13, 15, 17):
        bought(once, f"2026-01-15T{hour:02d}:00", "25.00")

    call_command("run_nightly", "--date", RUN.isoformat())

    metrics = CustomerMetrics.objects.get(customer=once)
    assert metrics.purchase_count == 5
    # No repeat purchase day: alive for sure (five "repeats" within hours scored ~0 before).
    assert metrics.p_alive == pytest.approx(1.0)
    worked_metrics = CustomerMetrics.objects.get(customer=worked)
    # 30 days between the first and last of three purchase days, not 30 / 4 purchases.
    assert worked_metrics.usual_gap_days == pytest.approx(15.0)
    assert not any("usually 0" in reason for reason in worked_metrics.reasons)
