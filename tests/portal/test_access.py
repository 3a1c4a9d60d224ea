"""Access to the portal (docs/portal.md "Access"): sign-up for existing customers only,
confirmed by e-mail; invitations by account managers; password reset and change;
two-factor sign-in; sessions that end; the lockout on the sign-in page."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.core import mail
from django.urls import reverse

from customers.models import Customer, User
from tests.factories import PASSWORD, CustomerFactory, PurchaseFactory, UserFactory

NEW_PASSWORD = "a-long-new-passphrase-42"


def sign_in(client, login, password=PASSWORD):
    return client.post(reverse("login"), {"login": login, "password": password})


def signed_in_user_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def link_in(message) -> str:
    """The one link to this site in a mail, as a path."""
    found = re.search(r"https?://testserver(/\S+)", message.body)
    assert found, message.body
    return found.group(1)


def sign_up(client, email, password=NEW_PASSWORD):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": password, "password2": password}
    )


@pytest.fixture
def record(manager_a):
    """A customer of manager A with no login yet, and something to show in the portal."""
    customer = CustomerFactory(
        name="Dora Delgado", email="dora@example.com", account_manager=manager_a
    )
    PurchaseFactory(customer=customer, reference="ORD-DORA-1")
    return customer


# --- sign-up, matched to a customer record by a confirmed address ----------------------


def test_sign_up_with_a_customers_address_links_the_record_once_confirmed(client, record):
    response = sign_up(client, "Dora@Example.com")

    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="dora@example.com")
    assert user.role == "customer"
    assert user.username == "dora@example.com"
    record.refresh_from_db()
    assert record.user is None  # not before the address is confirmed
    assert signed_in_user_id(client) is None
    # signing in is held until the address is confirmed
    held = sign_in(client, "dora@example.com", NEW_PASSWORD)
    assert held["Location"] == reverse("account_email_verification_sent")
    assert signed_in_user_id(client) is None

    confirm = link_in(mail.outbox[0])
    assert client.get(confirm).status_code == 200  # the page asks to confirm (a POST)
    client.post(confirm)

    record.refresh_from_db()
    assert record.user == user
    assert EmailAddress.objects.get(user=user).verified
    client.logout()
    assert sign_in(client, "dora@example.com", NEW_PASSWORD)["Location"] == reverse("home")
    home = client.get(reverse("home")).content.decode()
    assert "Hello, Dora Delgado" in home
    purchases = client.get(reverse("portal-purchases")).content.decode()
    assert "ORD-DORA-1" in purchases


def test_sign_up_with_an_unknown_address_creates_nothing_and_says_no_more_than_a_good_one(
    client, record
):
    good = sign_up(client, "dora@example.com")
    unknown = sign_up(client, "stranger@example.com")

    # the same answer for both: nothing tells whether an address is a customer's
    assert unknown.status_code == good.status_code == 302
    assert unknown["Location"] == good["Location"]
    assert not User.objects.filter(email="stranger@example.com").exists()
    refusal = mail.outbox[-1]
    assert refusal.to == ["stranger@example.com"]
    assert "We could not open one" in refusal.body
    assert "ask your account manager" in refusal.body
    page = client.get(unknown["Location"]).content.decode()
    assert "Check your inbox" in page


def test_an_address_on_two_records_is_not_guessed(client, manager_a):
    CustomerFactory(email="twins@example.com", account_manager=manager_a)
    CustomerFactory(email="twins@example.com", account_manager=manager_a)

    sign_up(client, "twins@example.com")

    assert not User.objects.filter(email="twins@example.com").exists()
    assert "We could not open one" in mail.outbox[-1].body


def test_a_record_that_already_has_a_login_takes_no_second_one(client, customer_user, manager_a):
    CustomerFactory(email=customer_user.email, user=customer_user, account_manager=manager_a)

    sign_up(client, customer_user.email)

    assert User.objects.filter(email=customer_user.email).count() == 1
    assert "already exists" in mail.outbox[-1].body  # allauth's mail: reset your password


def test_a_record_linked_meanwhile_stays_with_its_login(client, record, manager_a):
    sign_up(client, "dora@example.com")
    other = UserFactory(username="dora-invited", role="customer", email="")
    Customer.objects.filter(pk=record.pk).update(user=other)

    client.post(link_in(mail.outbox[0]))

    record.refresh_from_db()
    assert record.user == other
    assert not Customer.objects.filter(user__email="dora@example.com").exists()


def test_logins_made_by_staff_are_not_held_for_a_confirmation(client, manager_a, customer_user):
    # no address rows at all (the demo, invitations, the admin) ...
    assert sign_in(client, manager_a.username)["Location"] == reverse("home")
    client.logout()
    # ... nor after adding a second, unconfirmed address in the account settings
    EmailAddress.objects.create(user=customer_user, email="carol.new@example.com")
    assert sign_in(client, customer_user.username)["Location"] == reverse("home")


# --- invitations by account managers ---------------------------------------------------


def test_an_account_manager_invites_a_customer_who_chooses_a_password(client, record, manager_a):
    client.force_login(manager_a)
    detail = client.get(reverse("customer-detail", args=[record.pk])).content.decode()
    assert "Invite to the portal" in detail

    response = client.post(reverse("customer-portal-invite", args=[record.pk]), follow=True)

    assert "is invited to the portal" in response.content.decode()
    record.refresh_from_db()
    user = record.user
    assert user is not None
    assert user.role == "customer"
    assert user.email == "dora@example.com"
    assert not user.has_usable_password()
    (invitation,) = mail.outbox
    assert invitation.to == ["dora@example.com"]
    client.logout()

    # the link leads to allauth's set-a-new-password page
    form_page = client.get(link_in(invitation), follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert sign_in(client, "dora@example.com", NEW_PASSWORD)["Location"] == reverse("home")
    assert "Hello, Dora Delgado" in client.get(reverse("home")).content.decode()


def test_inviting_again_before_a_password_mails_the_link_again(client, record, manager_a):
    client.force_login(manager_a)
    client.post(reverse("customer-portal-invite", args=[record.pk]))
    response = client.post(reverse("customer-portal-invite", args=[record.pk]), follow=True)

    assert "went to dora@example.com again" in response.content.decode()
    assert len(mail.outbox) == 2
    assert User.objects.filter(email="dora@example.com").count() == 1


def test_invitations_are_refused_with_a_reason(client, record, manager_a, manager_b):
    client.force_login(manager_b)
    assert client.post(reverse("customer-portal-invite", args=[record.pk])).status_code == 404

    client.force_login(manager_a)
    no_email = CustomerFactory(email="", account_manager=manager_a)
    response = client.post(reverse("customer-portal-invite", args=[no_email.pk]), follow=True)
    assert "has no e-mail address" in response.content.decode()

    UserFactory(username="someone", email="dora@example.com")
    response = client.post(reverse("customer-portal-invite", args=[record.pk]), follow=True)
    assert "already used by another login" in response.content.decode()
    assert not mail.outbox


def test_the_api_invites_too(client, record, manager_a):
    client.force_login(manager_a)
    response = client.post(f"/api/v1/customers/{record.pk}/portal-invite/")

    assert response.status_code == 200
    assert response.json()["email"] == "dora@example.com"
    assert response.json()["mailed"] is True
    again = client.post(f"/api/v1/customers/{record.pk}/portal-invite/")
    assert again.json()["again"] is True


# --- passwords --------------------------------------------------------------------------


def test_password_reset_by_mail(client, customer_user):
    client.post(reverse("account_reset_password"), {"email": customer_user.email})

    (message,) = mail.outbox
    form_page = client.get(link_in(message), follow=True)
    client.post(
        form_page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert sign_in(client, customer_user.username, PASSWORD).status_code == 200  # old one: no
    assert sign_in(client, customer_user.username, NEW_PASSWORD).status_code == 302


def test_password_reset_for_an_unknown_address_says_the_same(client, db):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert response["Location"] == reverse("account_reset_password_done")


def test_password_change(client, customer_user):
    client.force_login(customer_user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.status_code == 200
    assert "Password successfully changed" in response.content.decode()
    client.logout()
    assert sign_in(client, customer_user.username, NEW_PASSWORD).status_code == 302


# --- two-factor sign-in ---------------------------------------------------------------


def current_code(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_totp_sign_in_asks_for_the_code_after_the_password(client, customer_user):
    secret = generate_totp_secret()
    TOTP.activate(customer_user, secret)

    response = sign_in(client, customer_user.username)
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert signed_in_user_id(client) is None

    client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert signed_in_user_id(client) == customer_user.pk


def test_setting_up_totp_from_the_account_pages(client, customer_user):
    client.force_login(customer_user)
    # allauth asks for the password again before two-factor settings change
    asked = client.get(reverse("mfa_activate_totp"))
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    client.post(asked["Location"], {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret

    client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)})

    assert customer_user.authenticator_set.filter(type="totp").exists()


# --- staff may be required to use two-factor sign-in --------------------------------------


@pytest.fixture
def require_2fa(settings):
    settings.CRM_STAFF_REQUIRE_2FA = True


def test_staff_without_2fa_are_sent_to_set_it_up_when_required(client, manager_a, require_2fa):
    assert sign_in(client, manager_a.username)["Location"] == reverse("home")

    response = client.get(reverse("customer-list"))
    assert response["Location"] == reverse("mfa_activate_totp")
    api = client.get("/api/v1/customers/")
    assert api.status_code == 403
    assert "two factors" in api.json()["detail"]
    # the set-up pages themselves (after the password again) and signing out stay open
    asked = client.get(reverse("mfa_activate_totp"))
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(asked["Location"]).status_code == 200
    client.post(asked["Location"], {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_staff_with_2fa_pass_and_customers_are_never_asked(
    client, manager_a, customer_user, require_2fa
):
    TOTP.activate(manager_a, generate_totp_secret())
    client.force_login(manager_a)
    assert client.get(reverse("customer-list")).status_code == 200

    CustomerFactory(user=customer_user)
    client.force_login(customer_user)
    assert client.get(reverse("home")).status_code == 200


def test_staff_2fa_is_not_required_by_default(client, manager_a):
    assert settings.CRM_STAFF_REQUIRE_2FA is False
    client.force_login(manager_a)
    assert client.get(reverse("customer-list")).status_code == 200


# --- staff and customer logins never mix ------------------------------------------------


def test_a_customer_opens_no_staff_page_and_no_admin_page(client, customer_user):
    CustomerFactory(user=customer_user)
    client.force_login(customer_user)

    assert client.get(reverse("customer-list")).status_code == 403
    assert client.get(reverse("staff-list")).status_code == 403
    admin = client.get("/admin/", follow=True)
    assert admin.status_code == 403
    assert client.get("/admin/customers/customer/").status_code in (302, 403)
    assert client.get("/api/v1/customers/").status_code == 403


def test_the_admins_own_login_form_is_not_a_way_in(client, admin_user):
    response = client.get("/admin/login/?next=/admin/")

    assert response["Location"] == f"{reverse('login')}?next=%2Fadmin%2F"
    assert client.post("/admin/login/", {"username": admin_user.username}).status_code == 302
    assert signed_in_user_id(client) is None


def test_staff_are_no_portal_customers(client, manager_a):
    client.force_login(manager_a)
    assert client.get(reverse("portal-profile")).status_code == 403


# --- sessions end ---------------------------------------------------------------------


def test_a_sign_in_lasts_until_the_browser_closes_and_at_most_twelve_hours(client, customer_user):
    sign_in(client, customer_user.username)

    assert client.session.get_expire_at_browser_close()
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"]  # a browser-session cookie
    assert 0 < client.session.get_expiry_age() <= 12 * 60 * 60


# --- the lockout covers the new sign-in page ---------------------------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def test_five_wrong_passwords_lock_a_customer_out_whatever_they_type(
    client, customer_user, axes_on
):
    for login in ("carol", "Carol", "CAROL", " carol"):
        assert sign_in(client, login, "wrong").status_code == 200
    assert sign_in(client, "carol", "wrong").status_code == 429  # the fifth locks

    locked = sign_in(client, customer_user.username)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert signed_in_user_id(client) is None


def test_wrong_passwords_by_e_mail_address_count_for_that_login_only(
    client, customer_user, axes_on
):
    other = UserFactory(username="dave", role="customer")
    for _ in range(5):
        sign_in(client, customer_user.email, "wrong")

    locked = sign_in(client, customer_user.email)
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    # someone else signing in by e-mail from the same address is not locked with them
    assert sign_in(client, other.email)["Location"] == reverse("home")
