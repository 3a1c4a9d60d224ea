"""Repeated wrong passwords lock that username from that address (django-axes)."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def login(client, username, password):
    return client.post(reverse("login"), {"login": username, "password": password})


def test_five_wrong_passwords_lock_the_login_and_say_why(client, manager_a, axes_on):
    for _ in range(5):
        response = login(client, manager_a.username, "wrong")
        assert response.status_code in (200, 429)
    locked = login(client, manager_a.username, PASSWORD)  # even the right one, for a while
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_resets_the_count(client, manager_a, axes_on):
    for _ in range(4):
        login(client, manager_a.username, "wrong")
    assert login(client, manager_a.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert login(client, manager_a.username, "wrong").status_code == 200
    assert login(client, manager_a.username, PASSWORD).status_code == 302


def test_another_user_is_not_locked_by_someone_elses_failures(
    client, manager_a, manager_b, axes_on
):
    for _ in range(6):
        login(client, manager_a.username, "wrong")
    assert login(client, manager_b.username, PASSWORD).status_code == 302
