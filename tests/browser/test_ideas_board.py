"""A customer proposes an idea, another customer votes for it, staff ship it with a reply,
and the author sees the reply and the points it earned."""

import pytest
from playwright.sync_api import expect

from loyalty.models import LedgerEntry
from tests.community.cocreation import event_rule, portal_customer
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_propose_vote_and_ship(browser, live_server, manager_a, manager_b):
    _, anna_c = portal_customer("anna", manager=manager_a)
    portal_customer("ben", manager=manager_b)
    membership = event_rule(anna_c, "idea_shipped", points=80)

    anna = browser.new_context().new_page()
    log_in(anna, live_server, "anna")
    anna.click("nav.mainnav >> text=Ideas")
    anna.click("text=Propose an idea")
    anna.click("main button[type=submit]")  # empty: the form says what is missing
    expect(anna.locator(".errorlist").first).to_contain_text("This field is required.")
    anna.fill("#id_title", "Dark mode")
    anna.fill("#id_body", "Please add a **dark** theme <script>alert(1)</script>")
    anna.click("main button[type=submit]")
    expect(anna.locator("h1.idea-title")).to_have_text("Dark mode")
    expect(anna.locator("article .md strong")).to_have_text("dark")
    expect(anna.locator("article .md")).to_contain_text("<script>alert(1)</script>")
    expect(anna.locator("#vote-button")).to_have_count(0)  # not for one's own idea
    idea_url = anna.url

    ben = browser.new_context().new_page()
    log_in(ben, live_server, "ben")
    ben.goto(f"{live_server.url}/community/ideas/?sort=new")
    ben.click("text=Dark mode")
    ben.click("#vote-button")
    expect(ben.locator("ul.messages")).to_contain_text("Thank you for your vote.")
    expect(ben.locator("#vote-count")).to_have_text("1")
    expect(ben.locator(".vote-form")).to_contain_text("You voted for this idea.")

    staff = browser.new_context().new_page()
    log_in(staff, live_server, "bob")  # manager B: any staff member triages ideas
    staff.click("nav.mainnav >> text=Ideas & reviews")
    expect(staff.locator("table.data tbody tr").first).to_contain_text("New")
    staff.click("table.data >> text=Dark mode")
    staff.select_option("#id_status", "shipped")
    staff.fill("#id_reply", "Shipped in **2.4**: switch it on in Settings.")
    staff.click("#status-submit")
    expect(staff.locator(".idea-replies")).to_contain_text("Shipped in 2.4")
    expect(staff.locator(".idea-head .idea-status")).to_have_text("Shipped")

    anna.goto(idea_url)
    expect(anna.locator(".idea-replies .staff-badge")).to_have_text("Staff")
    expect(anna.locator(".idea-replies strong").last).to_have_text("2.4")
    assert LedgerEntry.objects.filter(membership=membership, event_code="idea_shipped").count() == 1
    for p in (anna, ben, staff):
        p.context.close()
