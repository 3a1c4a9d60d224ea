"""/api/v1/follow-ups/: add, list, reschedule, reassign (admins), complete; a manager
reaches only their customers' follow-ups and the ones assigned to them (others are 404)."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from relationships.models import FollowUp
from tests.factories import FollowUpFactory, UserFactory

URL = "/api/v1/follow-ups/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def test_a_manager_adds_one_on_their_customer(manager_a, customer_a):
    response = api(manager_a).post(
        URL, {"customer": customer_a.pk, "due_on": days(3), "what": "Quote"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["assignee"]["id"], body["is_open"], body["interaction"]) == (
        manager_a.pk,
        True,
        None,
    )


def test_an_admin_assigns_it_to_another_manager(admin_user, manager_b, customer_a):
    response = api(admin_user).post(
        URL,
        {"customer": customer_a.pk, "due_on": days(1), "what": "Cover", "assignee": manager_b.pk},
        format="json",
    )
    assert response.status_code == 201
    assert FollowUp.objects.get().assignee == manager_b


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_on": "2001-01-01"}, "due_on"),
        ({"due_on": "9999-12-31"}, "due_on"),
        ({"due_on": "tomorrow"}, "due_on"),
        ({"what": "a\x00b"}, "what"),
        ({"what": ""}, "what"),
        ({"assignee": 10**9}, "assignee"),
        ({"assignee": "x"}, "assignee"),
        ({"customer": 10**30}, "customer"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_user, customer_a, change, field):
    data = {"customer": customer_a.pk, "due_on": days(1), "what": "Call", **change}
    response = api(admin_user).post(URL, data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not FollowUp.objects.exists()


def test_an_inactive_manager_cannot_be_the_assignee(admin_user, customer_a):
    gone = UserFactory(username="gone", is_active=False)
    response = api(admin_user).post(
        URL,
        {"customer": customer_a.pk, "due_on": days(1), "what": "x", "assignee": gone.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "No active account manager or admin" in str(response.json()["assignee"])


def test_a_manager_may_not_assign_someone_else(manager_a, manager_b, customer_a):
    response = api(manager_a).post(
        URL,
        {"customer": customer_a.pk, "due_on": days(1), "what": "x", "assignee": manager_b.pk},
        format="json",
    )
    assert response.status_code == 403


def test_lists_are_scoped_and_others_are_404(manager_a, manager_b, customer_a, customer_b):
    mine = FollowUpFactory(customer=customer_a)
    theirs = FollowUpFactory(customer=customer_b)
    client = api(manager_a)
    assert [r["id"] for r in client.get(URL).json()["results"]] == [mine.pk]
    for path in ("", "reschedule/", "complete/"):
        url = f"{URL}{theirs.pk}/{path}"
        answer = client.post(url, {"due_on": days(2)}) if path else client.get(url)
        assert answer.status_code == 404
    theirs.refresh_from_db()
    assert theirs.done_at is None


def test_reschedule_reassign_complete(admin_user, manager_a, manager_b, customer_a):
    follow_up = FollowUpFactory(customer=customer_a)
    client = api(manager_a)
    moved = client.post(f"{URL}{follow_up.pk}/reschedule/", {"due_on": days(9)}, format="json")
    assert moved.json()["due_on"] == days(9)
    assert (
        client.post(f"{URL}{follow_up.pk}/reschedule/", {"due_on": "2001-01-01"}).status_code == 400
    )
    assert (
        client.post(f"{URL}{follow_up.pk}/reassign/", {"assignee": manager_b.pk}).status_code == 403
    )
    handed = api(admin_user).post(f"{URL}{follow_up.pk}/reassign/", {"assignee": manager_b.pk})
    assert handed.json()["assignee"]["id"] == manager_b.pk
    # Bob reaches it now, though the customer is Alice's.
    done = api(manager_b).post(f"{URL}{follow_up.pk}/complete/", {"note": "Done it"})
    assert (done.status_code, done.json()["is_open"], done.json()["done_note"]) == (
        200,
        False,
        "Done it",
    )
    again = api(manager_b).post(f"{URL}{follow_up.pk}/reschedule/", {"due_on": days(3)})
    assert again.status_code == 409


def test_filters(manager_a, customer_a):
    soon = FollowUpFactory(customer=customer_a, due_on=timezone.localdate())
    far = FollowUpFactory(customer=customer_a, due_on=timezone.localdate() + dt.timedelta(days=90))
    client = api(manager_a)
    assert [r["id"] for r in client.get(f"{URL}?due_after={days(30)}").json()["results"]] == [
        far.pk
    ]
    assert [r["id"] for r in client.get(f"{URL}?due_before={days(0)}").json()["results"]] == [
        soon.pk
    ]
    assert client.get(f"{URL}?due_after=someday").status_code == 400


def test_customers_and_anonymous_are_refused(customer_user, customer_a):
    FollowUpFactory(customer=customer_a)
    assert api(customer_user).get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)
