import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.browser.test_log_interaction import log_in

pytestmark = pytest.mark.browser


def test_search_beyond_a_page_is_counted_when_asked_without_reload(page, live_server, manager_a):
    Customer.objects.bulk_create(
        [Customer(name=f"Cust {i:03d}", account_manager=manager_a) for i in range(60)]
        + [Customer(name="Other Ltd", account_manager=manager_a)]
    )
    log_in(page, live_server, "alice")
    expect(page.locator("#result-count")).to_contain_text("61 customers")
    page.evaluate("window.__notReloaded = true")

    page.fill("#id_q", "cust")
    expect(page.locator("#result-count")).to_contain_text("50+ customers")
    page.click("#result-count >> text=count them")
    expect(page.locator("#result-count")).to_contain_text("60 customers")
    assert "count=1" in page.url
    assert page.evaluate("window.__notReloaded") is True
