import os

import pytest
from playwright.sync_api import expect

from customers.models import ImportJob
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("CRM_SCREENSHOTS", "")


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/customers/")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_a_managers_edit_shows_on_the_customer_page_of_an_admin_only(
    browser, live_server, admin_user, manager_a, customer_a
):
    manager = browser.new_context().new_page()
    sign_in(manager, live_server, "alice")
    manager.goto(f"{live_server.url}/customers/{customer_a.pk}/edit/")
    manager.fill("#id_name", "Acme Renamed")
    manager.click("main button[type=submit]")
    expect(manager.locator("h1")).to_have_text("Acme Renamed")
    expect(manager.locator("#changes")).to_have_count(0)

    for width, name in ((1280, "desktop"), (390, "phone")):
        context = browser.new_context(viewport={"width": width, "height": 900})
        admin = context.new_page()
        sign_in(admin, live_server, "ada")
        admin.goto(f"{live_server.url}/customers/{customer_a.pk}/")
        changes = admin.locator("#changes")
        expect(changes).to_contain_text("Customer changed")
        expect(changes).to_contain_text("by Alice Anders")
        expect(changes).to_contain_text("Name: Acme Alpha → Acme Renamed")
        assert admin.evaluate("document.documentElement.scrollWidth") <= width
        changes.scroll_into_view_if_needed()
        shot(admin, f"customer-changes-{name}")
        admin.click("#changes >> text=Open the changes page")
        expect(admin.locator("h1")).to_have_text("Changes to Acme Renamed")
        shot(admin, f"changes-page-{name}")
        context.close()


def test_an_import_waiting_for_the_queue_says_it_is_sent_again_by_itself(
    browser, live_server, admin_user
):
    job = ImportJob.objects.create(
        kind="customers",
        mode="all_or_nothing",
        filename="people.csv",
        content="name\nLater\n",
        total_rows=1,
        created_by=admin_user,
    )
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    sign_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/imports/{job.pk}/")
    expect(page.locator("#import-status")).to_contain_text(
        "sent again automatically within a minute"
    )
    shot(page, "import-waiting-phone")
    # The broker is back (in process here): Send now runs it without waiting for the sweep.
    page.click("text=Send now")
    expect(page.locator("#import-status")).to_contain_text("Imported 1 of 1 rows")
    context.close()
