import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from relationships.models import Interaction
from tests.factories import InteractionFactory


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_log_an_interaction_as_its_author(manager_a, customer_a):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client_for(manager_a).post(
        "/api/v1/interactions/",
        {
            "customer": customer_a.pk,
            "channel": "phone",
            "kind": "support",
            "subject": "Printer jammed",
            "notes": "Sent a technician.",
            "sentiment": -1,
            "follow_up_on": tomorrow.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["author"]["id"] == manager_a.pk
    assert body["follow_up_open"] is True
    interaction = Interaction.objects.get(pk=body["id"])
    assert interaction.author == manager_a
    assert interaction.sentiment == -1


def test_author_cannot_be_chosen_by_the_client(manager_a, manager_b, customer_a):
    response = client_for(manager_a).post(
        "/api/v1/interactions/",
        {
            "customer": customer_a.pk,
            "channel": "email",
            "kind": "check_in",
            "subject": "Hello",
            "author": manager_b.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert Interaction.objects.get().author == manager_a


def test_logging_on_another_managers_customer_is_no_such_customer(manager_a, customer_b):
    response = client_for(manager_a).post(
        "/api/v1/interactions/",
        {"customer": customer_b.pk, "channel": "phone", "kind": "sale", "subject": "Hi"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["customer"] == ["No such customer."]
    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "telepathy"}, "channel"),
        ({"kind": "gossip"}, "kind"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"sentiment": 5}, "sentiment"),
        ({"sentiment": "bad"}, "sentiment"),
        ({"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T10:00:00Z"}, "occurred_at"),
        ({"follow_up_on": "someday"}, "follow_up_on"),
        ({"follow_up_on": "2000-01-01"}, "follow_up_on"),
        ({"follow_up_on": "2999-01-01"}, "follow_up_on"),
        ({"customer": 10**30}, "customer"),
        ({"customer": {"id": 1}}, "customer"),
    ],
)
def test_bad_interaction_input_is_a_400(manager_a, customer_a, change, field):
    payload = {"customer": customer_a.pk, "channel": "phone", "kind": "sale", "subject": "Hi"}
    payload.update(change)
    response = client_for(manager_a).post("/api/v1/interactions/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Interaction.objects.exists()


def test_interactions_are_scoped_to_the_book(manager_a, admin_user, customer_a, customer_b):
    mine = InteractionFactory(customer=customer_a, author=manager_a)
    theirs = InteractionFactory(customer=customer_b)
    api = client_for(manager_a)
    assert ids(api.get("/api/v1/interactions/")) == {mine.pk}
    assert api.get(f"/api/v1/interactions/{theirs.pk}/").status_code == 404
    assert ids(api.get(f"/api/v1/interactions/?customer={customer_b.pk}")) == set()
    assert ids(client_for(admin_user).get("/api/v1/interactions/")) == {mine.pk, theirs.pk}


def test_filters_by_kind_channel_and_open_follow_up(manager_a, customer_a):
    today = timezone.localdate()
    open_one = InteractionFactory(
        customer=customer_a, author=manager_a, kind="complaint", channel="email", follow_up_on=today
    )
    done = InteractionFactory(
        customer=customer_a,
        author=manager_a,
        follow_up_on=today,
        follow_up__done_at=timezone.now(),
    )
    plain = InteractionFactory(customer=customer_a, author=manager_a)
    api = client_for(manager_a)
    assert ids(api.get("/api/v1/interactions/?kind=complaint")) == {open_one.pk}
    assert ids(api.get("/api/v1/interactions/?channel=email")) == {open_one.pk}
    assert ids(api.get("/api/v1/interactions/?follow_up_open=true")) == {open_one.pk}
    assert ids(api.get("/api/v1/interactions/?follow_up_open=false")) == {done.pk, plain.pk}
    assert api.get("/api/v1/interactions/?kind=gossip").status_code == 400


def test_complete_follow_up(manager_a, customer_a):
    interaction = InteractionFactory(
        customer=customer_a, author=manager_a, follow_up_on=timezone.localdate()
    )
    response = client_for(manager_a).post(
        f"/api/v1/interactions/{interaction.pk}/complete-follow-up/"
    )
    assert response.status_code == 200
    assert response.json()["follow_up_open"] is False
    interaction.refresh_from_db()
    assert interaction.follow_up_done_at is not None


def test_completing_without_a_follow_up_is_a_400(manager_a, customer_a):
    interaction = InteractionFactory(customer=customer_a, author=manager_a)
    response = client_for(manager_a).post(
        f"/api/v1/interactions/{interaction.pk}/complete-follow-up/"
    )
    assert response.status_code == 400


def test_another_managers_follow_up_is_a_404(manager_a, customer_b):
    interaction = InteractionFactory(customer=customer_b, follow_up_on=timezone.localdate())
    response = client_for(manager_a).post(
        f"/api/v1/interactions/{interaction.pk}/complete-follow-up/"
    )
    assert response.status_code == 404
    interaction.refresh_from_db()
    assert interaction.follow_up_done_at is None


def test_customer_user_is_refused(customer_user, customer_a):
    assert client_for(customer_user).get("/api/v1/interactions/").status_code == 403


def test_interactions_cursor_pagination(manager_a, customer_a):
    for days in range(5):
        InteractionFactory(
            customer=customer_a,
            author=manager_a,
            occurred_at=timezone.now() - dt.timedelta(days=days),
        )
    api = client_for(manager_a)
    url = "/api/v1/interactions/?page_size=2"
    seen = []
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    times = [Interaction.objects.get(pk=pk).occurred_at for pk in seen]
    assert len(seen) == 5
    assert times == sorted(times, reverse=True)
