from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from tests.factories import PASSWORD


@override_settings(CRM_TOKEN_RATE="3/minute")
def test_token_endpoint_slows_password_guessing(client, manager_a):
    cache.clear()
    url = reverse("api-token")
    for _ in range(3):
        response = client.post(url, {"username": "alice", "password": "wrong"})
        assert response.status_code == 400
    # the fourth guess within a minute is refused, even with the right password
    response = client.post(url, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    cache.clear()


def test_token_endpoint_gives_a_token(client, manager_a):
    cache.clear()
    response = client.post(reverse("api-token"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token"]
