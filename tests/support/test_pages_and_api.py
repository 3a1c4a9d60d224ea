"""The support pages and API as their users meet them: the customer opens, reads, replies,
reopens and rates; staff work the queue. Another's request or attachment is a 404; bad
input is a clear field error, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from relationships.support import services
from relationships.support.models import Status, SupportRequest
from tests.support.conftest import EXE, PNG, upload


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token(user) -> Client:
    key, _ = Token.objects.get_or_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {key.key}")


@pytest.fixture
def xenas(xena):
    return services.support_request_open(
        customer=xena,
        author=xena.user,
        category="product",
        subject="Broken lid",
        body="The lid cracked.",
        attachment=upload("lid.png", PNG),
    )


def test_the_customer_opens_a_request_and_sees_it_confirmed(xena):
    client = login(xena.user)
    response = client.post(
        reverse("portal-support"),
        {
            "category": "order",
            "subject": "Late parcel",
            "body": "Ordered last week.",
            "attachment": upload("note.txt", b"order 42"),
        },
        follow=True,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sent: your request #" in body
    assert "Late parcel" in body
    assert "note.txt" in body
    assert reverse("portal-support") in body  # the menu entry


def test_a_wrong_file_type_is_a_field_error_and_nothing_is_sent(xena):
    response = login(xena.user).post(
        reverse("portal-support"),
        {"category": "order", "subject": "S", "body": "B", "attachment": upload("x.pdf", EXE)},
    )
    assert response.status_code == 400
    assert "This file type cannot be attached" in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_an_empty_form_names_each_field(xena):
    response = login(xena.user).post(reverse("portal-support"), {})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose what your request is about." in body
    assert "Say in a few words what it is about." in body
    assert "Write your message: what happened" in body


def test_reply_reopen_and_rate_on_the_page(xena, xenas, manager_a):
    client = login(xena.user)
    url = reverse("portal-support-detail", args=[xenas.pk])
    services.support_staff_reply(request=xenas, actor=manager_a, body="Sending a new one.")
    services.support_staff_reply(request=xenas, actor=manager_a, body="SECRET note", internal=True)
    page = client.get(url).content.decode()
    assert "Sending a new one." in page
    assert "SECRET note" not in page
    assert "Waiting on customer" in page
    response = client.post(reverse("portal-support-reply", args=[xenas.pk]), {"body": ""})
    assert response.status_code == 400
    assert "Write your reply before sending it." in response.content.decode()
    services.support_status_set(request=xenas, actor=manager_a, status="resolved")
    response = client.post(
        reverse("portal-support-rate", args=[xenas.pk]), {"rating": "5"}, follow=True
    )
    assert "Thank you: your rating is saved." in response.content.decode()
    response = client.post(reverse("portal-support-reopen", args=[xenas.pk]), {}, follow=True)
    assert "Reopened" in response.content.decode()
    xenas.refresh_from_db()
    assert (xenas.status, xenas.rating) == (Status.OPEN, 5)


def test_attachments_go_only_to_the_owner_and_staff_who_see_the_customer(
    xena, yuri, xenas, manager_a, manager_b, admin_user
):
    message = xenas.messages.get()
    portal_url = reverse("portal-support-attachment", args=[xenas.pk, message.pk])
    staff_url = reverse("support-attachment", args=[xenas.pk, message.pk])
    response = login(xena.user).get(portal_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert "attachment;" in response["Content-Disposition"]
    assert login(yuri.user).get(portal_url).status_code == 404
    assert login(manager_a).get(staff_url).status_code == 200
    assert login(admin_user).get(staff_url).status_code == 200
    assert login(manager_b).get(staff_url).status_code == 404
    assert login(xena.user).get(staff_url).status_code == 403


def test_an_internal_notes_attachment_is_not_the_customers(xena, xenas, manager_a):
    note = services.support_staff_reply(
        request=xenas, actor=manager_a, body="Photo", internal=True, attachment=upload("a.png", PNG)
    )
    url = reverse("portal-support-attachment", args=[xenas.pk, note.pk])
    assert login(xena.user).get(url).status_code == 404


def test_staff_queue_reply_status_and_root_cause(xena, manager_a, manager_b, admin_user):
    complaint = services.support_request_open(
        customer=xena, author=xena.user, category="complaint", subject="Rude driver", body="!"
    )
    client = login(manager_a)
    queue = client.get(reverse("support-queue")).content.decode()
    assert "Rude driver" in queue
    assert "cause not set" in queue
    assert "Rude driver" not in login(manager_b).get(reverse("support-queue")).content.decode()
    response = client.post(
        reverse("support-reply", args=[complaint.pk]), {"body": "Sorry!"}, follow=True
    )
    assert "sees your reply and gets an e-mail" in response.content.decode()
    response = client.post(reverse("support-status", args=[complaint.pk]), {"status": "bogus"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    response = client.post(
        reverse("support-status", args=[complaint.pk]), {"status": "resolved"}, follow=True
    )
    assert "Saved: the request is now “Resolved”." in response.content.decode()
    from relationships.models import DefectionReason

    cause = DefectionReason.objects.get(code="price")
    response = client.post(
        reverse("support-root-cause", args=[complaint.pk]), {"root_cause": cause.pk}, follow=True
    )
    assert "counts in the defection analysis" in response.content.decode()
    complaint.interaction.refresh_from_db()
    assert complaint.interaction.root_cause == cause
    # On the customer's timeline, as the interaction it is.
    page = client.get(reverse("customer-detail", args=[xena.pk])).content.decode()
    assert "Rude driver" in page
    assert reverse("support-detail", args=[complaint.pk]) in page


def test_the_customer_api(xena, yuri):
    api = token(xena.user)
    response = api.post(
        reverse("api-my-support-request-list"),
        {"category": "billing", "subject": "Double charge", "body": "Twice!"},
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["kind"] == "support"
    assert [r["id"] for r in api.get(reverse("api-my-support-request-list")).json()["results"]] == [
        pk
    ]
    response = api.post(
        reverse("api-my-support-request-reply", args=[pk]),
        {"body": "See file", "attachment": upload("x.pdf", EXE)},
    )
    assert response.status_code == 400
    assert "attachment" in json.dumps(response.json())
    response = api.post(
        reverse("api-my-support-request-rate", args=[pk]),
        json.dumps({"rating": 5}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert (
        token(yuri.user).get(reverse("api-my-support-request-detail", args=[pk])).status_code == 404
    )


def test_the_staff_api(xena, xenas, manager_a, manager_b):
    api = token(manager_a)
    rows = api.get(reverse("api-support-request-list") + "?status=open&scope=mine").json()
    assert [r["id"] for r in rows["results"]] == [xenas.pk]
    response = api.post(
        reverse("api-support-request-reply", args=[xenas.pk]),
        json.dumps({"body": "On its way"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "waiting"
    response = api.post(
        reverse("api-support-request-status", args=[xenas.pk]),
        json.dumps({"status": "done"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "status" in response.json()
    assert api.get(reverse("api-support-request-list") + "?scope=x").status_code == 400
    other = token(manager_b).get(reverse("api-support-request-detail", args=[xenas.pk]))
    assert other.status_code == 404
    # A customer's token cannot use the staff side, nor staff the customer side.
    assert token(xena.user).get(reverse("api-support-request-list")).status_code == 403
    assert api.get(reverse("api-my-support-request-list")).status_code == 403


def test_the_schema_documents_support(admin_user):
    schema = login(admin_user).get(reverse("api-schema") + "?format=json").json()
    assert "/api/v1/my/support-requests/{id}/rate/" in schema["paths"]
    assert "/api/v1/support-requests/{id}/reply/" in schema["paths"]


def test_attachments_through_the_api(xena, yuri, xenas, manager_a, manager_b):
    message = xenas.messages.get()
    mine = reverse("api-my-support-request-attachment", args=[xenas.pk, message.pk])
    staff = reverse("api-support-request-attachment", args=[xenas.pk, message.pk])
    response = token(xena.user).get(mine)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert token(yuri.user).get(mine).status_code == 404
    assert token(manager_a).get(staff).status_code == 200
    assert token(manager_b).get(staff).status_code == 404
    assert token(xena.user).get(staff).status_code == 403
