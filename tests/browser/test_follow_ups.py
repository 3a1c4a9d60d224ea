"""A manager adds, reschedules and completes a follow-up on the customer page without a
reload, then finds the list; at phone width nothing scrolls sideways."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from relationships.models import FollowUp
from tests.factories import PASSWORD, FollowUpFactory

pytestmark = pytest.mark.browser


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/customers/")


@pytest.mark.parametrize("width", [1280, 390])
def test_add_reschedule_and_complete_a_follow_up_in_place(
    page, live_server, manager_a, customer_a, width
):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/customers/{customer_a.pk}/")
    page.evaluate("window.__notReloaded = true")
    card = page.locator("#follow-ups")

    page.click("#follow-ups .fu-add summary")
    page.fill("#id_what", "Send the revised quote")
    page.fill("#id_due_on", "2001-01-01")
    page.click("#follow-up-form button[type=submit]")
    expect(card.locator(".errorlist")).to_contain_text("cannot be due in the past")

    due = timezone.localdate() + dt.timedelta(days=2)
    page.fill("#id_due_on", due.isoformat())
    page.click("#follow-up-form button[type=submit]")
    expect(card.locator(".fu-msg")).to_contain_text("Follow-up added: Send the revised quote")
    item = card.locator(".fu-item").first
    expect(item).to_contain_text("Send the revised quote")

    item.locator("summary").click()
    later = timezone.localdate() + dt.timedelta(days=20)
    item.locator("input[type=date]").fill(later.isoformat())
    item.locator("button", has_text="Reschedule").click()
    item = card.locator(".fu-item").first
    expect(item.locator(".fu-msg")).to_contain_text("Moved to")
    assert FollowUp.objects.get().due_on == later

    item.locator("button", has_text="Mark done").first.click()
    expect(card.locator(".fu-item.fu-done")).to_contain_text("Done")
    assert page.evaluate("window.__notReloaded") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_list_pages_and_filters_at_phone_width(page, live_server, manager_a, customer_a):
    page.set_viewport_size({"width": 390, "height": 900})
    today = timezone.localdate()
    for i in range(55):
        FollowUpFactory(customer=customer_a, due_on=today + dt.timedelta(days=i % 40 - 3))
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/follow-ups/")
    expect(page.locator("#result-count")).to_contain_text("55 open")
    expect(page.locator(".fu-item")).to_have_count(50)
    page.click("#next-page")
    expect(page.locator(".fu-item")).to_have_count(5)
    page.click("text=Overdue")
    expect(page.locator(".fu-item .badge.overdue").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
