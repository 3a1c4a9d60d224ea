import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from relationships.nightly import nightly_run
from tests.browser.test_log_interaction import log_in
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory

pytestmark = pytest.mark.browser


def bought(customer, *days: dt.date) -> None:
    for day in days:
        PurchaseFactory(
            customer=customer,
            amount=Decimal("100.00"),
            occurred_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
        )


def test_a_lost_customer_is_one_click_from_the_dashboard(page, live_server, manager_a):
    segment = SegmentFactory(name="Subscribers", inactivity_days=60)
    kept = CustomerFactory(
        name="Kept Co", segment=segment, account_manager=manager_a, acquired_on=dt.date(2025, 1, 5)
    )
    lost = CustomerFactory(
        name="Gone Co", segment=segment, account_manager=manager_a, acquired_on=dt.date(2025, 1, 5)
    )
    bought(kept, dt.date(2026, 3, 10), dt.date(2026, 5, 10))
    bought(lost, dt.date(2026, 3, 10))  # lost 60 days on: May 9
    nightly_run(run_date=dt.date(2026, 6, 3))

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/analytics/")
    card = page.locator("#headline .kpi").first
    expect(card).to_contain_text("Retention, May 2026")
    expect(card).to_contain_text("1 of 2 kept, 1 lost, 0 new")
    card.locator('a[href*="retention=lost"]').click()
    expect(page.locator("#set-caption")).to_contain_text("Lost during May 2026: 1 customer")
    expect(page.locator("#customer-table tbody tr")).to_have_count(1)
    expect(page.locator("#customer-table")).to_contain_text("Gone Co")

    page.select_option("#id_stage", "customer")  # another filter: the set stays
    expect(page.locator("#set-caption")).to_contain_text("Lost during May 2026")
    expect(page.locator("#customer-table")).to_contain_text("Gone Co")
    assert "retention=lost" in page.url
