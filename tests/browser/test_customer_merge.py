"""An admin finds a duplicate customer, compares the two records and merges them; an
account manager is warned about an e-mail already on file; an import is checked first."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import PASSWORD, CustomerFactory, PurchaseFactory

pytestmark = pytest.mark.browser

# Set CRM_SCREENSHOTS to a folder to keep a picture of each step (for a human to look at).
SHOTS = os.environ.get("CRM_SCREENSHOTS", "")


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/customers/")


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_merges_a_duplicate(page, live_server, admin_user, manager_a, width):
    page.set_viewport_size({"width": width, "height": 900})
    survivor = CustomerFactory(
        name="Nordwind GmbH", email="info@nordwind.example", account_manager=manager_a
    )
    absorbed = CustomerFactory(
        name="Nordwind", email="INFO@nordwind.example", phone="", account_manager=manager_a
    )
    PurchaseFactory.create_batch(3, customer=absorbed)
    _login(page, live_server, "ada")
    page.goto(f"{live_server.url}/customers/{survivor.pk}/")
    page.click("main >> text=Merge…")
    page.click(f"main >> text=#{absorbed.pk} Nordwind")
    expect(page.locator("#merge-moves")).to_contain_text("Purchases")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shot(page, f"merge-preview-{width}")

    page.click(f"main >> text=Merge #{absorbed.pk} into #{survivor.pk}")

    expect(page.locator(".messages")).to_contain_text("purchases 3")
    assert not Customer.objects.filter(pk=absorbed.pk).exists()
    _shot(page, f"merge-done-{width}")
    page.goto(f"{live_server.url}/customers/{absorbed.pk}/")
    expect(page.locator(".messages")).to_contain_text(f"#{absorbed.pk} was merged")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_is_warned_about_an_email_on_file(page, live_server, manager_a, width):
    page.set_viewport_size({"width": width, "height": 900})
    existing = CustomerFactory(
        name="Nordwind GmbH", email="info@nordwind.example", account_manager=manager_a
    )
    _login(page, live_server, manager_a.username)
    page.goto(f"{live_server.url}/customers/new/")
    page.fill("#id_name", "Nordwind")
    page.fill("#id_email", "info@nordwind.example")
    page.click("main >> text=Add customer")
    warning = page.locator("#duplicate-email")
    expect(warning).to_contain_text("Nordwind GmbH")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shot(page, f"duplicate-email-{width}")
    expect(warning.locator("a")).to_have_attribute("href", f"/customers/{existing.pk}/")
    page.click("main button[name=allow_duplicate_email]")
    expect(page.locator(".messages")).to_contain_text("Nordwind was added")
    assert Customer.objects.filter(email="info@nordwind.example").count() == 2


def test_an_import_is_checked_before_it_writes(page, live_server, admin_user, tmp_path):
    CustomerFactory(external_id="ERP-1", name="Old")
    csv = tmp_path / "people.csv"
    csv.write_text("external_id,name,email\nERP-1,Nordwind,n@example.com\nERP-2,Süd,\n")
    _login(page, live_server, "ada")
    page.goto(f"{live_server.url}/imports/new/")
    _shot(page, "import-form-1280")
    page.set_input_files("#id_file", str(csv))
    page.click("main >> text=Upload")
    expect(page.locator("#import-preview")).to_contain_text("create 1")
    expect(page.locator("#import-preview")).to_contain_text("update 1")
    _shot(page, "import-checked-1280")
    page.click("main >> text=Import now")
    expect(page.locator("#import-status")).to_contain_text("1 created, 1 updated")
    assert Customer.objects.get(external_id="ERP-1").name == "Nordwind"
