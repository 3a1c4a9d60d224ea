"""A customer opens at most CRM_SUPPORT_OPEN_PER_DAY requests in 24 hours: the next is
refused with a clear message on the page (a form error) and in the API (429 with
Retry-After), and nothing is written. Older requests and other customers do not count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from customers.errors import TooMany
from relationships.models import Interaction
from relationships.support import services
from relationships.support.models import SupportRequest

LIMIT_MESSAGE = (
    "You have opened 10 requests in the last 24 hours; please add to an open one, or try "
    "again later."
)


def open_request(customer, subject: str = "Where is my order?") -> SupportRequest:
    return services.support_request_open(
        customer=customer,
        author=customer.user,
        category="order",
        subject=subject,
        body="It has not arrived.",
    )


def open_ten(customer) -> list[SupportRequest]:
    return [open_request(customer, f"Order {n}") for n in range(10)]


def age(request: SupportRequest, hours: float) -> None:
    SupportRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=hours)
    )


def test_the_eleventh_request_in_a_day_is_refused_and_nothing_is_written(xena):
    # given ten requests opened today
    open_ten(xena)
    interactions = Interaction.objects.count()

    # when the customer opens an eleventh
    with pytest.raises(TooMany) as refused:
        open_request(xena)

    # then it is refused with what to do instead, and when to try again
    assert refused.value.message == LIMIT_MESSAGE
    assert refused.value.status_code == 429
    assert 23 * 3600 < refused.value.retry_after <= 24 * 3600 + 1
    assert SupportRequest.objects.filter(customer=xena).count() == 10
    assert Interaction.objects.count() == interactions


def test_a_request_25_hours_old_does_not_count(xena):
    # given ten requests, the oldest opened 25 hours ago
    requests = open_ten(xena)
    age(requests[0], hours=25)

    # when the customer opens another, it is accepted: nine in the last 24 hours
    assert open_request(xena).pk

    # and the next one is the eleventh of the day again
    with pytest.raises(TooMany):
        open_request(xena)


def test_retry_after_is_when_the_oldest_of_the_day_turns_24_hours_old(xena):
    requests = open_ten(xena)
    age(requests[0], hours=20)  # frees a slot in about four hours

    with pytest.raises(TooMany) as refused:
        open_request(xena)

    assert 4 * 3600 - 60 < refused.value.retry_after <= 4 * 3600 + 1


def test_another_customer_is_not_affected(xena, yuri):
    open_ten(xena)

    assert open_request(yuri).customer == yuri


def test_the_limit_is_read_from_settings_and_zero_means_none(xena, settings):
    settings.CRM_SUPPORT_OPEN_PER_DAY = 2
    open_request(xena)
    open_request(xena)
    with pytest.raises(TooMany, match="You have opened 2 requests in the last 24 hours"):
        open_request(xena)

    settings.CRM_SUPPORT_OPEN_PER_DAY = 0
    assert open_request(xena).pk


def test_the_page_shows_the_limit_as_a_form_error(xena):
    # given ten requests opened today
    open_ten(xena)
    client = Client()
    client.force_login(xena.user)

    # when the customer sends the form for an eleventh
    response = client.post(
        reverse("portal-support"),
        {"category": "question", "subject": "One more", "body": "A question."},
    )

    # then the form says why, with what they wrote kept, and nothing is written
    body = response.content.decode()
    assert response.status_code == 400
    assert LIMIT_MESSAGE in body
    assert "Please correct the fields marked below" not in body  # no field is wrong
    assert 'value="One more"' in body
    assert not SupportRequest.objects.filter(subject="One more").exists()


def test_the_api_answers_429_with_the_message_and_retry_after(xena):
    open_ten(xena)
    key, _ = Token.objects.get_or_create(user=xena.user)
    api = Client(HTTP_AUTHORIZATION=f"Token {key.key}")

    response = api.post(
        "/api/v1/my/support-requests/",
        {"category": "question", "subject": "One more", "body": "A question."},
        content_type="application/json",
    )

    assert response.status_code == 429
    assert response.json() == {"detail": LIMIT_MESSAGE}
    assert 23 * 3600 < int(response["Retry-After"]) <= 24 * 3600 + 1
    assert not SupportRequest.objects.filter(subject="One more").exists()


def test_the_api_schema_documents_the_429():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    responses = schema["paths"]["/api/v1/my/support-requests/"]["post"]["responses"]
    assert "Retry-After" in responses["429"]["description"]
