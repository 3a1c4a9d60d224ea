"""A customer opens their own account in chromium: signs up with the address on their record,
follows the confirmation link from the mail, signs in and sees their purchases; then turns on
two-factor sign-in and signs in with a code. At 390 px the sign-in pages fit the screen."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from playwright.sync_api import expect

from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import CustomerFactory, PurchaseFactory

pytestmark = pytest.mark.browser

# Screenshots to look at, when asked for: CRM_SCREENSHOTS=/some/dir
SHOTS = os.environ.get("CRM_SCREENSHOTS", "")
PASSWORD = "a-Long-new-pass-42"


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide"


def code_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(iter(yield_hotp_counters_from_time()))))


def link_in_last_mail(live_server, path_pattern: str) -> str:
    """The mailed link, opened on the live server: under the production settings mails link
    to https:// (ACCOUNT_DEFAULT_HTTP_PROTOCOL), which the test server does not speak."""
    found = re.search(rf"https?://[^/\s]+({path_pattern})", mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return f"{live_server.url}{found.group(1)}"


def sign_in(page, live_server, login):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", login)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def test_a_customer_signs_up_confirms_and_turns_on_two_factor_sign_in(page, live_server, manager_a):
    record = CustomerFactory(
        name="Dora Delgado", email="dora@example.com", account_manager=manager_a
    )
    PurchaseFactory(customer=record, reference="ORD-DORA-1")

    page.goto(f"{live_server.url}/accounts/login/")
    shot(page, "login-desktop")
    page.click("text=Customers: create your account")
    page.fill("#id_email", "dora@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    shot(page, "signup-desktop")
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    link = link_in_last_mail(live_server, r"/accounts/confirm-email/\S+/")
    page.goto(link)
    shot(page, "confirm-desktop")
    page.click("main button[type=submit]")
    sign_in(page, live_server, "dora@example.com")
    expect(page.get_by_role("heading", name="Hello, Dora Delgado")).to_be_visible()
    page.click("nav.mainnav >> text=Purchases")
    expect(page.locator("main")).to_contain_text("ORD-DORA-1")

    # two-factor sign-in from the account pages (allauth asks for the password first)
    page.click("header >> text=Account")
    shot(page, "account-password-desktop")
    page.click("nav.settings-tabs >> text=Two-factor sign-in")
    shot(page, "mfa-index-desktop")
    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    shot(page, "totp-activate-desktop")
    secret = page.locator("#authenticator_secret").inner_text().strip()
    page.fill("#id_code", code_now(secret))
    page.click("main button[type=submit]")
    shot(page, "after-activate-desktop")
    page.click("form.logout button")

    sign_in(page, live_server, "dora@example.com")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    shot(page, "mfa-authenticate-desktop")
    page.fill("#id_code", code_now(secret))
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Hello, Dora Delgado")).to_be_visible()


def test_the_sign_in_pages_fit_a_phone(browser, live_server, customer_user):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        for path, name in [
            ("/accounts/login/", "login-phone"),
            ("/accounts/signup/", "signup-phone"),
            ("/accounts/password/reset/", "reset-phone"),
        ]:
            page.goto(f"{live_server.url}{path}")
            shot(page, name)
            no_sideways_scroll(page)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_login", customer_user.username)
        page.fill("#id_password", "wrong")
        page.click("main button[type=submit]")
        expect(page.locator("main [role=alert]")).to_be_visible()
        shot(page, "login-error-phone")
        no_sideways_scroll(page)
    finally:
        context.close()


def test_an_account_manager_invites_a_customer_who_then_signs_in(page, live_server, manager_a):
    record = CustomerFactory(name="Emil Engel", email="emil@example.com", account_manager=manager_a)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", manager_a.username)
    page.fill("#id_password", FACTORY_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/customers/{record.pk}/")
    page.click("#portal-invite")
    expect(page.locator(".messages")).to_contain_text("Emil Engel is invited to the portal")
    expect(page.locator("main")).to_contain_text("invited, no password yet")
    shot(page, "customer-invited-phone")
    no_sideways_scroll(page)
    page.click("form.logout button")

    link = link_in_last_mail(live_server, r"/accounts/password/reset/key/\S+")
    page.goto(link)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    shot(page, "invite-set-password-phone")
    page.click("main button[type=submit]")
    sign_in(page, live_server, "emil@example.com")
    expect(page.get_by_role("heading", name="Hello, Emil Engel")).to_be_visible()
