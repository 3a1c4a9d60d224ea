"""Hostile text typed into a customer record comes back escaped on every page that shows
it, and as plain data (not HTML) from the API."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from relationships.models import RiskFlag
from tests.factories import CustomerFactory, InteractionFactory

CORPUS = [
    "<script>alert('name')</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "</textarea><script>alert(2)</script>",
    '<a href="javascript:alert(3)">click</a>',
    "<iframe srcdoc='<script>alert(4)</script>'>",
]


@pytest.fixture(params=range(len(CORPUS)), ids=[f"payload{i}" for i in range(len(CORPUS))])
def hostile(request, manager_a):
    payload = CORPUS[request.param]
    customer = CustomerFactory(
        account_manager=manager_a,
        name=payload,
        company=payload,
        address=payload,
    )
    customer.tags.create(name=payload[:50])
    InteractionFactory(
        customer=customer,
        author=manager_a,
        subject=payload,
        notes=payload,
        follow_up_on=timezone.localdate(),
    )
    flag = RiskFlag.objects.create(
        customer=customer,
        account_manager=manager_a,
        raised_on=timezone.localdate(),
        score=90,
        reasons=[payload],
        handled_at=timezone.now(),
        handled_by=manager_a,
        handled_note=payload,
    )
    customer.flag = flag
    return payload, customer


def page_urls(customer) -> list[tuple[str, dict]]:
    return [
        (reverse("customer-list"), {}),
        (reverse("customer-list"), {"HTTP_HX_REQUEST": "true"}),
        (reverse("customer-detail", args=[customer.pk]), {}),
        (reverse("customer-timeline", args=[customer.pk]), {"HTTP_HX_REQUEST": "true"}),
        (reverse("customer-edit", args=[customer.pk]), {}),
        (reverse("interaction-log", args=[customer.pk]), {}),
        (reverse("purchase-create", args=[customer.pk]), {}),
        (reverse("follow-up-list"), {}),
        (reverse("at-risk"), {}),
        (reverse("risk-flag-handle", args=[customer.flag.pk]), {}),
    ]


def test_pages_escape_hostile_customer_text(client, manager_a, hostile):
    payload, customer = hostile
    client.force_login(manager_a)
    for url, headers in page_urls(customer):
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert payload not in html, f"{url} renders the payload unescaped"
        assert escape(payload)[:20] in html, f"{url} does not show the text at all"


def test_customer_search_echo_is_escaped(client, manager_a, hostile):
    payload, _ = hostile
    client.force_login(manager_a)
    response = client.get(reverse("customer-list"), {"q": payload})
    assert payload not in response.content.decode()


def test_api_returns_hostile_text_as_plain_json_data(client, manager_a, hostile):
    payload, customer = hostile
    client.force_login(manager_a)
    response = client.get(f"/api/v1/customers/{customer.pk}/")
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    # Stored and returned as typed: escaping is the job of whoever renders it as HTML.
    assert body["name"] == payload
    assert body["address"] == payload
    assert body["tags"] == [payload[:50]]
    interactions = client.get(f"/api/v1/interactions/?customer={customer.pk}").json()
    assert interactions["results"][0]["notes"] == payload


def test_browsable_api_escapes_hostile_text(client, manager_a, hostile):
    payload, customer = hostile
    client.force_login(manager_a)
    response = client.get(f"/api/v1/customers/{customer.pk}/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("text/html")
    assert payload not in response.content.decode()
