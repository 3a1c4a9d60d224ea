"""Whose attempts the token throttle and django-axes count: the client address comes from
REMOTE_ADDR, or from X-Forwarded-For only as far as CRM_TRUSTED_PROXIES proxies vouch for it."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.urls import reverse

from crm.client_address import client_address


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@override_settings(CRM_TOKEN_RATE="10/minute")
def test_a_new_forwarded_for_per_request_does_not_escape_the_token_throttle(
    client, db, fresh_cache
):
    url = reverse("api-token")
    answers = [
        client.post(
            url,
            {"username": "nobody", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(40)
    ]
    assert answers.count(400) == 10
    assert answers.count(429) == 30


@override_settings(CRM_TOKEN_RATE="3/minute", CRM_TRUSTED_PROXIES=1)
def test_behind_one_proxy_clients_are_told_apart_by_the_address_the_proxy_saw(
    client, db, fresh_cache
):
    url = reverse("api-token")
    data = {"username": "nobody", "password": "wrong"}

    def attempt(forwarded):
        return client.post(url, data, HTTP_X_FORWARDED_FOR=forwarded).status_code

    # One client, lying in the left part of the header each time: still one client.
    assert [attempt(f"10.9.9.{n}, 198.51.100.7") for n in range(4)] == [400, 400, 400, 429]
    # Another client behind the same proxy has its own count.
    assert attempt("198.51.100.8") == 400


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "203.0.113.9", "192.0.2.1", "192.0.2.1"),  # the header is not trusted at all
        (0, None, "192.0.2.1", "192.0.2.1"),
        (1, "203.0.113.9", "10.0.0.2", "203.0.113.9"),
        (1, "spoofed, 203.0.113.9", "10.0.0.2", "203.0.113.9"),
        (2, "spoofed, 203.0.113.9, 10.0.0.3", "10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.2", "203.0.113.9"),  # fewer hops than proxies
        (1, "not-an-address", "10.0.0.2", "10.0.0.2"),
        (1, "2001:db8::1", "10.0.0.2", "2001:db8::1"),
        (1, None, "10.0.0.2", "10.0.0.2"),
    ],
)
def test_client_address(settings, proxies, forwarded, remote, expected):
    settings.CRM_TRUSTED_PROXIES = proxies
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_address(RequestFactory().get("/", **headers)) == expected


def test_axes_uses_the_same_client_address(settings):
    from axes.helpers import get_client_ip_address

    settings.CRM_TRUSTED_PROXIES = 1
    request = RequestFactory().post(
        "/", HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.9", REMOTE_ADDR="10.0.0.2"
    )
    assert get_client_ip_address(request) == "203.0.113.9"
    settings.CRM_TRUSTED_PROXIES = 0
    assert get_client_ip_address(request) == "10.0.0.2"
