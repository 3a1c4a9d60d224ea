"""The API token endpoint asks for the second factor as the sign-in page does: a login with
two-factor sign-in turned on sends its current code (or an unused recovery code) in `otp`,
a wrong code counts as a failed login, and staff without two-factor get no token while the
company requires it (docs/portal.md "Two-factor sign-in")."""

import functools

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from axes.models import AccessAttempt
from django.core.cache import cache
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD

MISSING = "This account uses two-factor sign-in: send the current code in otp."
SET_UP = "Set up two-factor sign-in in your account before using the API."


@pytest.fixture(autouse=True)
def fresh_cache():
    # allauth remembers used TOTP codes in the cache, the throttle counts there too.
    cache.clear()
    yield
    cache.clear()


def token(client, user, **extra):
    return client.post(
        reverse("api-token"), {"username": user.username, "password": PASSWORD, **extra}
    )


def valid_codes(secret: str) -> set[str]:
    return {format_hotp_value(hotp_value(secret, c)) for c in yield_hotp_counters_from_time()}


def current_code(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def wrong_code(secret: str) -> str:
    return next(
        code for code in ("000000", "111111", "222222", "333333") if code not in valid_codes(secret)
    )


def with_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


# --- a login with two-factor sign-in turned on ---------------------------------------------


def test_no_code_is_a_400_naming_otp(client, manager_a):
    with_totp(manager_a)
    response = token(client, manager_a)
    assert response.status_code == 400
    assert response.json() == {"detail": MISSING, "otp": [MISSING]}
    assert token(client, manager_a, otp="").status_code == 400
    assert not Token.objects.filter(user=manager_a).exists()
    # asked for only once the password is right: a wrong one does not tell who has 2FA
    wrong = client.post(reverse("api-token"), {"username": "alice", "password": "wrong"})
    assert wrong.status_code == 400
    assert "otp" not in wrong.json()


def test_a_wrong_code_is_a_400_naming_otp(client, customer_user):
    secret = with_totp(customer_user)
    response = token(client, customer_user, otp=wrong_code(secret))
    assert response.status_code == 400
    body = response.json()
    assert "not right" in body["detail"]
    assert body["otp"] == [body["detail"]]
    assert not Token.objects.filter(user=customer_user).exists()


def test_the_current_code_gets_the_token_and_works_once(client, manager_a):
    secret = with_totp(manager_a)
    code = current_code(secret)
    response = token(client, manager_a, otp=code)
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=manager_a).key
    # allauth remembers a used code for its whole window: it cannot be replayed
    assert token(client, manager_a, otp=code).status_code == 400


def test_a_recovery_code_works_once_only(client, manager_a):
    with_totp(manager_a)
    codes = RecoveryCodes.activate(manager_a)
    first, second = codes.get_unused_codes()[:2]

    assert token(client, manager_a, otp=first).status_code == 200
    again = token(client, manager_a, otp=first)
    assert again.status_code == 400
    assert "otp" in again.json()
    codes.instance.refresh_from_db()
    assert first not in codes.get_unused_codes()
    # the others still work
    assert token(client, manager_a, otp=second).status_code == 200


# --- wrong codes count as failed logins ------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def test_wrong_codes_count_against_the_login_lockout(client, manager_a, axes_on):
    secret = with_totp(manager_a)
    wrong = wrong_code(secret)
    # two wrong passwords and two wrong codes: four failures for this login
    for _ in range(2):
        client.post(reverse("api-token"), {"username": "alice", "password": "wrong"})
    for _ in range(2):
        assert token(client, manager_a, otp=wrong).status_code == 400
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 4
    # the fifth failure, a wrong code, locks as a wrong password would
    locked = token(client, manager_a, otp=wrong)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.json()["detail"]
    assert locked["Retry-After"] == "900"
    # from then on even the right code is refused
    assert token(client, manager_a, otp=current_code(secret)).status_code == 429
    assert not Token.objects.filter(user=manager_a).exists()


# --- staff may be required to use two-factor sign-in -----------------------------------------


def test_staff_without_2fa_get_403_and_no_token_when_required(
    client, settings, manager_a, admin_user
):
    settings.CRM_STAFF_REQUIRE_2FA = True
    for user in (manager_a, admin_user):
        response = token(client, user)
        assert response.status_code == 403
        assert response.json() == {"detail": SET_UP}
        assert not Token.objects.filter(user=user).exists()

    settings.CRM_STAFF_REQUIRE_2FA = False
    assert token(client, manager_a).status_code == 200


def test_staff_with_2fa_get_a_token_with_the_code_when_required(client, settings, manager_a):
    settings.CRM_STAFF_REQUIRE_2FA = True
    secret = with_totp(manager_a)
    assert token(client, manager_a).status_code == 400  # the code, not the set-up, is missing
    assert token(client, manager_a, otp=current_code(secret)).status_code == 200


def test_customers_are_not_asked_to_set_up_2fa(client, settings, customer_user, manager_a):
    settings.CRM_STAFF_REQUIRE_2FA = True
    assert token(client, manager_a).status_code == 403
    response = token(client, customer_user)
    assert response.status_code == 200
    assert response.json()["token"]


# --- documented --------------------------------------------------------------------------------


@functools.cache
def operation() -> dict:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["paths"]["/api/v1/auth/token/"]["post"], schema["components"]["schemas"]


def test_the_schema_documents_otp_and_the_new_errors():
    op, components = operation()
    fields = components["AuthTokenRequest"]["properties"]
    assert "otp" in fields
    assert "otp" not in components["AuthTokenRequest"]["required"]
    assert MISSING in op["responses"]["400"]["description"]
    assert SET_UP in op["responses"]["403"]["description"]
    assert op["responses"]["403"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Error"
    )
