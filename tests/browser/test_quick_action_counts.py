"""The counts on the page and the menu badge change as soon as a follow-up is marked done or a
ladder suggestion accepted, without a reload, and nothing breaks the Content-Security-Policy
or logs an error on the way (an out-of-band swap with no target would)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_console_clean import watch
from tests.browser.test_log_interaction import log_in
from tests.factories import CustomerFactory, FollowUpFactory, LadderSuggestionFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_mark_done_updates_the_open_count_and_the_menu_badge(
    page, live_server, manager_a, customer_a, width
):
    day = timezone.localdate()
    for n, on in enumerate([day - dt.timedelta(days=2), day, day + dt.timedelta(days=5)]):
        FollowUpFactory(customer=customer_a, what=f"Call back {n}", due_on=on)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/follow-ups/")
    problems = watch(page)
    expect(page.locator("#follow-up-total")).to_have_text("3")
    expect(page.locator("#menu-follow-ups-due")).to_contain_text("2")
    item = page.locator("li.fu-item", has_text="Call back 1")

    item.locator(".fu-actions > form").get_by_role("button", name="Mark done").click()

    expect(item.locator(".fu-msg")).to_have_text("Done: Call back 1.")
    expect(page.locator("#follow-up-total")).to_have_text("2")
    expect(page.locator("#follow-up-count-today")).to_have_text("0")
    expect(page.locator("#follow-up-count-all")).to_have_text("2")
    expect(page.locator("#menu-follow-ups-due")).to_contain_text("1")
    assert problems == []


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_accept_updates_suggested_moves_and_the_funnel(page, live_server, manager_a, width):
    suggestions = [
        LadderSuggestionFactory(
            customer=CustomerFactory(account_manager=manager_a, stage="customer", name=f"Co {n}")
        )
        for n in range(3)
    ]
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/ladder/")
    problems = watch(page)
    expect(page.locator("#suggestion-count")).to_have_text("3")
    row = page.locator(f"#suggestion-{suggestions[0].pk}")

    row.get_by_role("button", name="Accept").click()

    expect(row).to_have_count(0)
    expect(page.locator("#suggestion-count")).to_have_text("2")
    expect(page.locator("#suggestion-total")).to_have_text("2")
    expect(page.locator("#moves-up")).to_have_text("1")
    expect(page.locator("#suggestion-status")).to_have_text("Co 0 is now a client.")
    expect(page.locator("#ladder-funnel .rung-client")).to_contain_text("1")

    page.locator(f"#suggestion-{suggestions[1].pk}").get_by_role("button", name="Dismiss").click()

    expect(page.locator("#suggestion-count")).to_have_text("1")
    expect(page.locator("#moves-up")).to_have_text("1")
    assert problems == []
