"""A new customer whose e-mail is already on file: the service refuses with a link to the
existing customer, the form asks "Save anyway", the API answers 409 unless told to
allow it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from customers.errors import Conflict, DuplicateEmail
from customers.models import Customer
from customers.services import customer_create, customer_update
from tests.factories import CustomerFactory


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_service_refuses_an_existing_email_and_names_the_customer(manager_a, customer_a):
    with pytest.raises(DuplicateEmail) as exc:
        customer_create(actor=manager_a, name="Again", email=customer_a.email.upper())
    assert exc.value.extra == {"existing_customer": customer_a.pk}
    assert customer_a.name in exc.value.message

    again = customer_create(
        actor=manager_a, name="Again", email=customer_a.email, allow_duplicate_email=True
    )
    assert again.email == customer_a.email


def test_a_customer_outside_the_book_is_not_linked(manager_a, customer_b):
    with pytest.raises(DuplicateEmail) as exc:
        customer_create(actor=manager_a, name="Again", email=customer_b.email)
    assert exc.value.extra == {"existing_customer": None}
    assert customer_b.name not in exc.value.message


def test_external_id_taken_is_a_clear_conflict(manager_a, customer_a):
    CustomerFactory(external_id="ERP-1")
    with pytest.raises(Conflict, match="external id ERP-1"):
        customer_create(actor=manager_a, name="X", external_id="ERP-1")
    with pytest.raises(Conflict, match="external id ERP-1"):
        customer_update(actor=manager_a, customer=customer_a, external_id="ERP-1")


def test_api_answers_409_with_the_existing_id_unless_allowed(manager_a, customer_a):
    body = {"name": "Again", "email": customer_a.email}
    response = api(manager_a).post("/api/v1/customers/", body, format="json")
    assert response.status_code == 409
    assert response.json()["existing_customer"] == customer_a.pk
    assert "email" in response.json()

    body["allow_duplicate_email"] = True
    response = api(manager_a).post("/api/v1/customers/", body, format="json")
    assert response.status_code == 201
    assert Customer.objects.filter(email=customer_a.email).count() == 2


def test_form_warns_links_and_saves_anyway(client, manager_a, customer_a):
    client.force_login(manager_a)
    data = {
        "name": "Again",
        "kind": "person",
        "email": customer_a.email,
        "stage": "prospect",
        "status": "active",
    }

    response = client.post(reverse("customer-create"), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "already has the e-mail" in page
    assert reverse("customer-detail", args=[customer_a.pk]) in page
    assert "Save anyway" in page
    assert Customer.objects.filter(email=customer_a.email).count() == 1

    response = client.post(reverse("customer-create"), {**data, "allow_duplicate_email": "1"})

    assert response.status_code == 302
    assert Customer.objects.filter(email=customer_a.email).count() == 2
