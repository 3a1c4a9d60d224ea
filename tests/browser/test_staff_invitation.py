import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_an_admin_invites_a_manager_who_sets_a_password_and_signs_in(
    page, live_server, admin_user, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav.mainnav >> text=Users")
    page.click("main >> text=Invite staff")
    page.fill("#id_email", "nina@example.com")
    page.fill("#id_first_name", "Nina")
    page.click("main button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("nina@example.com is invited")
    expect(page.locator("tr", has_text="nina@example.com")).to_contain_text("Invited")

    link = re.search(r"https?://\S+/welcome/\S+/", mail.outbox[0].body).group(0)
    page.click("form.logout button")
    page.goto(link)
    page.fill("#id_new_password1", "a-Long-new-pass-42")
    page.fill("#id_new_password2", "a-Long-new-pass-42")
    page.click("main button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Your password is set")
    page.fill("#id_login", "nina@example.com")
    page.fill("#id_password", "a-Long-new-pass-42")
    page.click("button[type=submit]")
    page.wait_for_url("**/customers/")
    expect(page.locator(".who")).to_contain_text("Nina")
