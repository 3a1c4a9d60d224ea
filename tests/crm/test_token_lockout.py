"""A locked-out login hears the same on the API token endpoint as on the login page: 429,
a sentence that says so, and when to retry."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    cache.clear()
    yield
    cache.clear()


def token(client, username, password):
    return client.post(reverse("api-token"), {"username": username, "password": password})


def test_a_locked_out_token_request_is_429_with_when_to_retry(client, manager_a, axes_on):
    for _ in range(4):
        assert token(client, manager_a.username, "wrong").status_code == 400
    # the fifth failure locks; from then on even the right password is refused
    assert token(client, manager_a.username, "wrong").status_code == 429
    locked = token(client, manager_a.username, PASSWORD)
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    detail = locked.json()["detail"]
    assert "Too many failed logins" in detail
    assert "15 minutes" in detail
    assert "Unable to log in" not in detail


def test_wrong_password_before_the_limit_is_still_400(client, manager_a, axes_on):
    response = token(client, manager_a.username, "wrong")
    assert response.status_code == 400
    assert "Unable to log in" in str(response.json())


def test_the_lockout_page_says_15_minutes_and_when_to_retry(client, manager_a, axes_on):
    for _ in range(5):
        client.post(reverse("login"), {"login": manager_a.username, "password": "wrong"})
    locked = client.post(reverse("login"), {"login": manager_a.username, "password": PASSWORD})
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "paused for 15 minutes" in body
    assert "PT15M" not in body
    assert locked["Retry-After"] == "900"
