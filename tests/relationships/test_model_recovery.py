"""Parameter recovery through the nightly run: purchase rows drawn from BG/NBD and
Gamma-Gamma with known parameters ([FHL05], [FH13]) go through the same data preparation
(purchase days in the book's time zone, repeat-day spend) and fit as every night, and the
stored ModelFit gives the parameters back."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.models import Customer, Purchase
from relationships.analytics.clv import BgNbdParams, GammaGammaParams
from relationships.models import ModelFit
from tests.factories import SegmentFactory
from tests.relationships.analytics.simulate import simulate_purchase_rows

RUN = dt.date(2026, 6, 1)
BOOK_ZONE = "America/New_York"
# CDNOW's fits ([FHL05] table 1 in weeks, here in days; [FH13]).
BG = BgNbdParams(r=0.24, alpha=4.41 * 7, a=0.79, b=2.43)
GG = GammaGammaParams(p=6.25, q=3.74, v=15.44)
# Relative tolerances. Six seeds of this very book (20,000 customers observed 52 to 78
# weeks, about 9,600 repeat buyers) fitted from their purchase days gave errors of at
# most 5% (r), 10% (alpha), 11% (a), 15% (b), 8% (p), 3% (q) and 13% (v), alpha biased
# up by about 5% by whole-day time; each tolerance is over twice the largest. Counting
# purchase rows instead of days (1.7 rows per day here) misses alpha by 99%, r by 39%,
# p by 47% and v by 65% on the same book.
TOLERANCE = {"r": 0.12, "alpha": 0.2, "a": 0.25, "b": 0.35, "p": 0.2, "q": 0.1, "v": 0.3}


@pytest.fixture
def simulated_book(db, settings):
    settings.TIME_ZONE = BOOK_ZONE
    rng = np.random.default_rng(0)
    n = 20_000
    ages = rng.integers(364, 547, size=n)  # first purchase 52 to 78 weeks before the run
    owner, days_before, hour, amount = simulate_purchase_rows(BG, GG, ages=ages, rng=rng)
    segment = SegmentFactory(name="Simulated")
    customers = Customer.objects.bulk_create(
        Customer(name=f"Simulated {i}", segment=segment, stage="customer") for i in range(n)
    )
    zone = zoneinfo.ZoneInfo(BOOK_ZONE)
    midnight = dt.datetime.combine(RUN, dt.time.min)
    rows = [
        Purchase(
            customer=customers[int(i)],
            reference=f"S{k}",
            amount=Decimal(f"{max(a, 0.01):.2f}"),
            # Local wall-clock times: evening items fall on the next day in UTC.
            occurred_at=(
                midnight - dt.timedelta(days=int(back)) + dt.timedelta(hours=float(h))
            ).replace(tzinfo=zone),
        )
        for k, (i, back, h, a) in enumerate(zip(owner, days_before, hour, amount, strict=True))
    ]
    Purchase.objects.bulk_create(rows, batch_size=5000)
    with timezone.override(BOOK_ZONE):
        yield


def test_the_nightly_run_recovers_the_parameters_it_was_simulated_with(simulated_book):
    call_command("run_nightly", "--date", RUN.isoformat())

    fit = ModelFit.objects.get(run_date=RUN)
    assert fit.penalizer == 0.0  # no penalty by default, and none needed here
    assert fit.bgnbd_converged
    assert fit.gg_converged
    assert fit.n_customers == 20_000
    got = {
        "r": fit.bgnbd_r,
        "alpha": fit.bgnbd_alpha,
        "a": fit.bgnbd_a,
        "b": fit.bgnbd_b,
        "p": fit.gg_p,
        "q": fit.gg_q,
        "v": fit.gg_v,
    }
    truth = {**vars(BG), **vars(GG)}
    for name, value in got.items():
        assert value == pytest.approx(truth[name], rel=TOLERANCE[name]), name
