import pytest
from playwright.sync_api import expect

from relationships.models import DefectionReason
from tests.factories import PASSWORD, InteractionFactory

pytestmark = pytest.mark.browser


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/customers/")


def test_manager_logs_an_interaction_and_sees_it_on_top_without_reload(
    page, live_server, manager_a, customer_a
):
    InteractionFactory(customer=customer_a, author=manager_a, subject="Earlier call")
    # live_server tests empty the tables after each test, the migration's taxonomy too.
    DefectionReason.objects.get_or_create(code="service", defaults={"name": "Service"})
    log_in(page, live_server, "alice")
    page.click("text=Acme Alpha")
    page.wait_for_url(f"**/customers/{customer_a.pk}/")
    expect(page.locator("#timeline-list li.tl-entry").first).to_contain_text("Earlier call")
    # A marker on window survives only if the page is not reloaded.
    page.evaluate("window.__notReloaded = true")

    # A bad submit shows the error in place and logs nothing.
    page.click("#interaction-form button[type=submit]")
    expect(page.locator("#interaction-form .errorlist")).to_contain_text("This field is required.")
    expect(page.locator("#timeline-list li.tl-entry")).to_have_count(1)

    # The root cause belongs to complaints: hidden for a check-in, asked for a complaint.
    expect(page.locator("#id_root_cause")).to_be_hidden()
    page.select_option("#id_channel", "meeting")
    page.select_option("#id_kind", "complaint")
    expect(page.locator("#id_root_cause")).to_be_visible()
    page.select_option("#id_root_cause", label="Service")
    page.select_option("#id_sentiment", "-1")
    page.fill("#id_subject", "Invoice was wrong")
    page.fill("#id_notes", "Promised a credit note.")
    page.click("#interaction-form button[type=submit]")

    first = page.locator("#timeline-list li.tl-entry").first
    expect(first).to_contain_text("Invoice was wrong")
    expect(first).to_contain_text("Negative")
    expect(first).to_contain_text("Root cause: Service")
    expect(page.locator("#timeline-list li.tl-entry")).to_have_count(2)
    expect(page.locator("#id_subject")).to_have_value("")
    expect(page.locator("#id_subject")).to_be_focused()
    assert page.evaluate("window.__notReloaded") is True


def test_refused_htmx_request_is_explained(page, live_server, manager_a, customer_a):
    """If the customer leaves the manager's book while the page is open, logging is
    refused (404) and the page says so instead of doing nothing."""
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/customers/{customer_a.pk}/")
    customer_a.account_manager = None
    customer_a.save()
    page.fill("#id_subject", "Too late")
    page.click("#interaction-form button[type=submit]")
    expect(page.locator("ul.messages.js-flash")).to_contain_text("not available to you")
