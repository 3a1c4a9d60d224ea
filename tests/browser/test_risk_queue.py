import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, RiskFlagFactory

pytestmark = pytest.mark.browser


def test_manager_marks_a_flag_handled_in_place(page, live_server, manager_a, customer_a):
    flag = RiskFlagFactory(customer=customer_a)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/customers/")
    page.goto(f"{live_server.url}/at-risk/")
    page.evaluate("window.__notReloaded = true")
    block = page.locator(f"#risk-handle-{flag.pk}")

    block.locator("summary").click()
    block.locator("button[type=submit]").click()
    expect(page.locator(f"#risk-handle-{flag.pk} .errorlist")).to_contain_text("Say what you did")

    page.locator(f"#risk-handle-{flag.pk} textarea").fill("Called; visit on Friday.")
    page.locator(f"#risk-handle-{flag.pk} button[type=submit]").click()
    handled = page.locator(f"#risk-handle-{flag.pk} .handled-note")
    expect(handled).to_contain_text("Handled")
    expect(handled).to_contain_text("by you")
    expect(handled).to_contain_text("Called; visit on Friday.")
    assert page.evaluate("window.__notReloaded") is True
