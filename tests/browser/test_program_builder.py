"""End to end in chromium: an admin builds a small program from nothing in the app (settings,
a tier, a rule, a reward, an offer; a contradiction shown on its field while filling in),
records a purchase for a customer, and sees the points and the offer on the customer page."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from loyalty.models import ConfigChange, Program
from tests.browser.test_log_interaction import log_in
from tests.factories import CustomerFactory

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CRM_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def save(page, message: str) -> None:
    page.click("#builder-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text(message)


def test_admin_builds_a_program_and_a_purchase_earns_on_it(page, live_server, admin_user):
    customer = CustomerFactory(name="Carla Co")
    log_in(page, live_server, "ada")

    # A program from nothing
    page.click("nav.mainnav >> text=Loyalty")
    page.click("a:has-text('New program')")
    page.fill("#id_name", "Friends")
    page.fill("#id_points_name", "stars")
    page.fill("#id_points_per_unit", "2")
    page.select_option("#id_downgrade_policy", "never")
    save(page, "The program Friends is created.")
    program = Program.objects.get(name="Friends")
    shot(page, "builder-program")

    # A tier, and a second one on the same threshold refused on its field while typing
    page.click("a:has-text('Add a tier')")
    page.fill("#id_name", "Member")
    page.fill("#id_threshold", "0")
    page.fill("#id_multiplier", "1")
    save(page, "The tier Member is created.")
    page.click("a:has-text('Add a tier')")
    page.fill("#id_name", "Twin")
    page.fill("#id_threshold", "0")
    page.fill("#id_multiplier", "1")
    page.locator("#id_perks").click()  # leaving the field sends the check
    expect(page.locator("#errors-threshold")).to_contain_text("overlap: both start at 0")
    shot(page, "builder-tier-overlap")
    page.click("a:has-text('Cancel')")
    assert program.tiers.count() == 1

    # A rule, a reward and an offer
    page.click("a:has-text('Add a rule')")
    page.fill("#id_name", "Base")
    page.select_option("#id_kind", "per_money")
    page.fill("#id_priority", "1")
    page.fill("#id_points_per_unit", "2")
    save(page, "The earning rule #1 Base is created.")
    page.click("a:has-text('Add a reward')")
    page.fill("#id_name", "Mug")
    page.fill("#id_cost", "100")
    save(page, "The reward Mug is created.")
    page.click("a:has-text('Add an offer')")
    page.fill("#id_name", "Tea for everyone")
    page.fill("#id_coupon_code", "TEA10")
    page.fill("#id_per_customer_limit", "1")
    save(page, "The offer Tea for everyone is created.")
    expect(page.locator("#changes")).to_contain_text("Offer Tea for everyone created")
    assert ConfigChange.objects.filter(program=program).count() >= 4

    # A purchase for the customer earns on the new rules
    page.goto(f"{live_server.url}/customers/{customer.pk}/purchases/new/")
    page.fill("#id_reference", "INV-BUILT")
    page.fill("#id_amount", "60")
    page.click("button:has-text('Record purchase')")
    expect(page.locator(".messages")).to_be_visible()
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator(".loyalty-panel")
    expect(panel).to_contain_text("Friends")
    expect(panel.locator(".loyalty-membership .big").first).to_have_text("120")
    expect(panel.locator(".offer-list")).to_contain_text("Tea for everyone")
    shot(page, "builder-customer")
