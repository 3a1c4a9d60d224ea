import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.templatetags.static import static
from django.utils import timezone
from rest_framework.test import APIClient

from customers.api import CustomerUpdateSerializer
from customers.models import AccountManagerAssignment, Customer, Purchase, Segment
from loyalty.models import Offer
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    PurchaseFactory,
    SegmentFactory,
)


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def when(days_ago: int = 1) -> str:
    return (timezone.now() - dt.timedelta(days=days_ago)).isoformat()


# --- Customers: visibility -----------------------------------------------------------------


def test_manager_lists_only_their_book_and_admin_lists_everyone(
    manager_a, manager_b, admin_user, customer_a, customer_b
):
    assert ids(client_for(manager_a).get("/api/v1/customers/")) == {customer_a.pk}
    assert ids(client_for(manager_b).get("/api/v1/customers/")) == {customer_b.pk}
    assert ids(client_for(admin_user).get("/api/v1/customers/")) == {customer_a.pk, customer_b.pk}


def test_another_managers_customer_is_a_404_for_read_write_and_reassign(manager_a, customer_b):
    api = client_for(manager_a)
    assert api.get(f"/api/v1/customers/{customer_b.pk}/").status_code == 404
    response = api.patch(f"/api/v1/customers/{customer_b.pk}/", {"name": "Hijacked"}, format="json")
    assert response.status_code == 404
    customer_b.refresh_from_db()
    assert customer_b.name == "Bravo Beta"


def test_retrieve_shows_tags_as_names_and_the_manager(manager_a, customer_a):
    customer_a.tags.create(name="vip")
    body = client_for(manager_a).get(f"/api/v1/customers/{customer_a.pk}/").json()
    assert body["name"] == "Acme Alpha"
    assert body["tags"] == ["vip"]
    assert body["account_manager"]["id"] == manager_a.pk


def test_customer_user_and_anonymous_are_refused(customer_user, customer_a):
    assert client_for(customer_user).get("/api/v1/customers/").status_code == 403
    assert client_for().get("/api/v1/customers/").status_code in {401, 403}


# --- Customers: writes ---------------------------------------------------------------------


def test_manager_creates_a_customer_into_their_own_book_with_tags(manager_a):
    segment = SegmentFactory(name="Retail")
    response = client_for(manager_a).post(
        "/api/v1/customers/",
        {"name": "New Co", "email": "hi@new.example", "segment": segment.pk, "tags": ["vip", "eu"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["account_manager"]["id"] == manager_a.pk
    assert sorted(body["tags"]) == ["eu", "vip"]
    customer = Customer.objects.get(pk=body["id"])
    assert customer.account_manager == manager_a
    assert AccountManagerAssignment.objects.filter(customer=customer, ended_at=None).count() == 1


def test_manager_cannot_create_into_another_managers_book(manager_a, manager_b):
    response = client_for(manager_a).post(
        "/api/v1/customers/", {"name": "Sneaky", "account_manager": manager_b.pk}, format="json"
    )
    assert response.status_code == 403
    assert not Customer.objects.filter(name="Sneaky").exists()


def test_admin_creates_a_customer_for_a_manager(admin_user, manager_b):
    response = client_for(admin_user).post(
        "/api/v1/customers/", {"name": "For Bob", "account_manager": manager_b.pk}, format="json"
    )
    assert response.status_code == 201
    assert Customer.objects.get(name="For Bob").account_manager == manager_b


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "email": "not-an-email"}, "email"),
        ({"name": "Ok", "stage": "emperor"}, "stage"),
        ({"name": "Ok", "segment": 999999}, "segment"),
        ({"name": "Ok", "segment": 10**30}, "segment"),
        ({"name": "Ok", "segment": "abc"}, "segment"),
        ({"name": "Ok", "acquired_on": "yesterday"}, "acquired_on"),
        ({"name": "Ok", "acquired_on": "2999-01-01"}, "acquired_on"),
        ({"name": "Ok", "tags": "vip"}, "tags"),
        ({"name": "Ok", "tags": ["x" * 51]}, "tags"),
        ({"name": "Ok", "account_manager": 10**30}, "account_manager"),
        ({"name": ["a", "list"]}, "name"),
    ],
)
def test_bad_customer_input_is_a_400_naming_the_field(admin_user, payload, field):
    response = client_for(admin_user).post("/api/v1/customers/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Customer.objects.exists()


def test_partial_update_changes_fields_and_replaces_tags(manager_a, customer_a):
    customer_a.tags.create(name="old")
    response = client_for(manager_a).patch(
        f"/api/v1/customers/{customer_a.pk}/",
        {"phone": "+33 1 23 45 67 89", "stage": "client", "tags": ["new"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    customer_a.refresh_from_db()
    assert customer_a.phone == "+33 1 23 45 67 89"
    assert customer_a.stage == "client"
    assert [t.name for t in customer_a.tags.all()] == ["new"]


def test_partial_update_cannot_move_the_customer_to_another_manager(
    manager_a, manager_b, customer_a
):
    response = client_for(manager_a).patch(
        f"/api/v1/customers/{customer_a.pk}/", {"account_manager": manager_b.pk}, format="json"
    )
    assert response.status_code == 400
    assert "reassign" in response.json()["account_manager"][0]
    customer_a.refresh_from_db()
    assert customer_a.account_manager == manager_a


def test_put_is_not_offered(manager_a, customer_a):
    response = client_for(manager_a).put(
        f"/api/v1/customers/{customer_a.pk}/", {"name": "X"}, format="json"
    )
    assert response.status_code == 405


# --- Reassign ------------------------------------------------------------------------------


def test_admin_reassigns_and_history_is_kept(admin_user, manager_a, manager_b, customer_a):
    response = client_for(admin_user).post(
        f"/api/v1/customers/{customer_a.pk}/reassign/",
        {"account_manager": manager_b.pk, "reason": "Alice moves to Berlin"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["account_manager"]["id"] == manager_b.pk
    history = client_for(admin_user).get(f"/api/v1/assignments/?customer={customer_a.pk}").json()
    assert [row["account_manager"]["id"] for row in history["results"]] == [
        manager_b.pk,
        manager_a.pk,
    ]
    assert history["results"][0]["reason"] == "Alice moves to Berlin"
    # Now Bob sees the customer and Alice does not.
    assert client_for(manager_b).get(f"/api/v1/customers/{customer_a.pk}/").status_code == 200
    assert client_for(manager_a).get(f"/api/v1/customers/{customer_a.pk}/").status_code == 404


def test_managers_cannot_reassign_even_their_own_customers(manager_a, manager_b, customer_a):
    response = client_for(manager_a).post(
        f"/api/v1/customers/{customer_a.pk}/reassign/",
        {"account_manager": manager_b.pk, "reason": "I'm done"},
        format="json",
    )
    assert response.status_code == 403
    customer_a.refresh_from_db()
    assert customer_a.account_manager == manager_a


@pytest.mark.parametrize(
    "payload",
    [
        {"reason": "no manager given"},
        {"account_manager": "me", "reason": "x"},
        {"account_manager": None, "reason": ""},
    ],
)
def test_bad_reassign_input_is_a_400(admin_user, customer_a, payload):
    response = client_for(admin_user).post(
        f"/api/v1/customers/{customer_a.pk}/reassign/", payload, format="json"
    )
    assert response.status_code == 400


def test_reassign_to_the_same_manager_is_refused(admin_user, manager_a, customer_a):
    response = client_for(admin_user).post(
        f"/api/v1/customers/{customer_a.pk}/reassign/",
        {"account_manager": manager_a.pk, "reason": "again"},
        format="json",
    )
    assert response.status_code == 400
    assert "already managed" in response.json()["detail"]


def test_reassign_to_a_non_manager_is_a_400(admin_user, customer_user, customer_a):
    response = client_for(admin_user).post(
        f"/api/v1/customers/{customer_a.pk}/reassign/",
        {"account_manager": customer_user.pk, "reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "account_manager" in response.json()


# --- Filters, search, ordering, cursor pagination -----------------------------------------


def test_filters_and_search(manager_a):
    retail = SegmentFactory(name="Retail")
    wanted = CustomerFactory(account_manager=manager_a, name="Zephyr Goods", segment=retail)
    CustomerFactory(account_manager=manager_a, name="Other Ltd", stage="prospect")
    api = client_for(manager_a)
    assert ids(api.get(f"/api/v1/customers/?segment={retail.pk}")) == {wanted.pk}
    assert ids(api.get("/api/v1/customers/?search=zephyr")) == {wanted.pk}
    assert ids(api.get("/api/v1/customers/?q=zephyr")) == {wanted.pk}
    assert api.get("/api/v1/customers/?stage=emperor").status_code == 400


def test_manager_filter_is_for_admins_only(
    admin_user, manager_a, manager_b, customer_a, customer_b
):
    assert ids(
        client_for(admin_user).get(f"/api/v1/customers/?account_manager={manager_b.pk}")
    ) == {customer_b.pk}
    # For a manager the filter is ignored: it cannot widen their view.
    assert ids(client_for(manager_a).get(f"/api/v1/customers/?account_manager={manager_b.pk}")) == {
        customer_a.pk
    }


@pytest.mark.parametrize(
    "ordering", ["name", "-name", "acquired_on", "-acquired_on", "created_at", "-id"]
)
def test_cursor_pagination_walks_every_customer_once_in_order(manager_a, ordering):
    today = timezone.localdate()
    for i in range(7):
        CustomerFactory(
            account_manager=manager_a,
            name=f"Customer {i % 3}",  # repeated names: the cursor must not lose ties
            acquired_on=None if i % 2 else today - dt.timedelta(days=i % 4),
        )
    api = client_for(manager_a)
    url = f"/api/v1/customers/?ordering={ordering}&page_size=2"
    seen = []
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.json()
        seen += [row["id"] for row in response.json()["results"]]
        url = response.json()["next"]
        pages += 1
    assert pages == 4
    assert len(seen) == 7
    assert set(seen) == set(Customer.objects.values_list("id", flat=True))
    if ordering.lstrip("-") == "name":
        names = [Customer.objects.get(pk=pk).name for pk in seen]
        assert names == sorted(names, reverse=ordering.startswith("-"))


@pytest.mark.parametrize("cursor", ["garbage", "YQ", "cD1hYmM=", "bz0tNSZwPXh4eA==", "é"])
def test_malformed_cursor_is_a_400(manager_a, customer_a, cursor):
    response = client_for(manager_a).get(
        "/api/v1/customers/", {"cursor": cursor, "ordering": "-id"}
    )
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_page_size_is_capped(manager_a, customer_a):
    response = client_for(manager_a).get("/api/v1/customers/?page_size=100000000000000000000")
    assert response.status_code == 200


# --- Segments -------------------------------------------------------------------------------


def test_staff_read_segments_and_only_admins_write(manager_a, admin_user):
    SegmentFactory(name="Retail")
    assert client_for(manager_a).get("/api/v1/segments/").status_code == 200
    assert (
        client_for(manager_a).post("/api/v1/segments/", {"name": "Mine"}, format="json").status_code
        == 403
    )
    response = client_for(admin_user).post(
        "/api/v1/segments/", {"name": "Wholesale", "inactivity_days": 90}, format="json"
    )
    assert response.status_code == 201
    assert Segment.objects.get(name="Wholesale").inactivity_days == 90


def test_duplicate_segment_name_is_a_409(admin_user):
    SegmentFactory(name="Retail")
    response = client_for(admin_user).post("/api/v1/segments/", {"name": "retail"}, format="json")
    assert response.status_code == 409


def test_segment_update_and_rename_clash(admin_user, manager_a):
    retail = SegmentFactory(name="Retail")
    SegmentFactory(name="Wholesale")
    api = client_for(admin_user)
    assert (
        api.patch(
            f"/api/v1/segments/{retail.pk}/", {"inactivity_days": 30}, format="json"
        ).status_code
        == 200
    )
    retail.refresh_from_db()
    assert retail.inactivity_days == 30
    assert (
        api.patch(
            f"/api/v1/segments/{retail.pk}/", {"name": "WHOLESALE"}, format="json"
        ).status_code
        == 409
    )
    assert (
        api.patch(
            f"/api/v1/segments/{retail.pk}/", {"inactivity_days": 10**20}, format="json"
        ).status_code
        == 400
    )
    assert (
        client_for(manager_a)
        .patch(f"/api/v1/segments/{retail.pk}/", {"name": "Mine"}, format="json")
        .status_code
        == 403
    )


def test_deleting_a_segment_with_customers_is_a_409_and_an_empty_one_goes(admin_user, customer_a):
    used = customer_a.segment
    empty = SegmentFactory(name="Empty")
    api = client_for(admin_user)
    response = api.delete(f"/api/v1/segments/{used.pk}/")
    assert response.status_code == 409
    assert "move them to another segment" in response.json()["detail"]
    assert Segment.objects.filter(pk=used.pk).exists()
    assert api.delete(f"/api/v1/segments/{empty.pk}/").status_code == 204
    assert not Segment.objects.filter(pk=empty.pk).exists()


# --- Purchases ------------------------------------------------------------------------------


def test_record_a_purchase_for_a_customer_in_my_book(manager_a, customer_a):
    response = client_for(manager_a).post(
        "/api/v1/purchases/",
        {
            "customer": customer_a.pk,
            "reference": "INV-1",
            "amount": "99.90",
            "currency": "eur",
            "occurred_at": when(),
            "category": "books",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    purchase = Purchase.objects.get(reference="INV-1")
    assert purchase.amount == Decimal("99.90")
    assert purchase.currency == "EUR"
    assert response.json()["customer"] == customer_a.pk


def test_purchase_for_another_managers_customer_is_no_such_customer(manager_a, customer_b):
    response = client_for(manager_a).post(
        "/api/v1/purchases/",
        {"customer": customer_b.pk, "reference": "INV-1", "amount": "1", "occurred_at": when()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["customer"] == ["No such customer."]
    assert not Purchase.objects.exists()


def test_duplicate_purchase_reference_is_a_409(manager_a, customer_a):
    PurchaseFactory(customer=customer_a, reference="INV-1")
    response = client_for(manager_a).post(
        "/api/v1/purchases/",
        {"customer": customer_a.pk, "reference": "INV-1", "amount": "1", "occurred_at": when()},
        format="json",
    )
    assert response.status_code == 409
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),  # naive
        ({"occurred_at": "9999-12-31T23:59:59-14:00"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T10:00:00+00:00"}, "occurred_at"),
        ({"occurred_at": "not a date"}, "occurred_at"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1e30"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": [1]}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "€€€"}, "currency"),
        ({"reference": ""}, "reference"),
        ({"reference": "x" * 101}, "reference"),
        ({"customer": 10**30}, "customer"),
        ({"customer": "abc"}, "customer"),
        ({"customer": None}, "customer"),
    ],
)
def test_bad_purchase_input_is_a_400(manager_a, customer_a, change, field):
    payload = {
        "customer": customer_a.pk,
        "reference": "INV-9",
        "amount": "10",
        "occurred_at": when(),
    }
    payload.update(change)
    response = client_for(manager_a).post("/api/v1/purchases/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Purchase.objects.exists()


def test_purchases_are_scoped_and_filtered(manager_a, admin_user, customer_a, customer_b):
    old = PurchaseFactory(
        customer=customer_a, category="books", occurred_at=timezone.now() - dt.timedelta(days=90)
    )
    recent = PurchaseFactory(customer=customer_a, category="toys")
    theirs = PurchaseFactory(customer=customer_b)
    api = client_for(manager_a)
    assert ids(api.get("/api/v1/purchases/")) == {old.pk, recent.pk}
    assert api.get(f"/api/v1/purchases/{theirs.pk}/").status_code == 404
    assert ids(api.get(f"/api/v1/purchases/?customer={customer_b.pk}")) == set()
    assert ids(api.get("/api/v1/purchases/?category=BOOKS")) == {old.pk}
    since = (timezone.now() - dt.timedelta(days=30)).isoformat()
    assert ids(api.get("/api/v1/purchases/", {"occurred_after": since})) == {recent.pk}
    assert ids(api.get("/api/v1/purchases/", {"occurred_before": since})) == {old.pk}
    listed = api.get("/api/v1/purchases/?ordering=occurred_at").json()["results"]
    assert [row["id"] for row in listed] == [old.pk, recent.pk]
    assert api.get("/api/v1/purchases/?occurred_after=whenever").status_code == 400
    assert api.get(f"/api/v1/purchases/?customer={10**30}").status_code in {200, 400}
    assert len(ids(client_for(admin_user).get("/api/v1/purchases/"))) == 3


# --- Assignments ----------------------------------------------------------------------------


def test_assignments_are_read_only_and_scoped(manager_a, customer_a, customer_b):
    api = client_for(manager_a)
    listed = api.get("/api/v1/assignments/").json()["results"]
    assert {row["customer"] for row in listed} == {customer_a.pk}
    theirs = customer_b.assignments.get()
    assert api.get(f"/api/v1/assignments/{theirs.pk}/").status_code == 404
    assert api.post("/api/v1/assignments/", {}, format="json").status_code == 405


# --- Token authentication -------------------------------------------------------------------


def test_token_auth_works_for_api_clients(manager_a, customer_a):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert ids(api.get("/api/v1/customers/")) == {customer_a.pk}
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    refused = bad.get("/api/v1/customers/")
    assert refused.status_code in {401, 403}
    assert "Invalid token" in refused.json()["detail"]


def test_token_with_wrong_password_is_a_400(manager_a):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400


def test_customer_users_token_does_not_open_the_staff_api(customer_user):
    token = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "carol", "password": PASSWORD}, format="json")
        .json()["token"]
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/customers/").status_code == 403


# --- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/v1/customers/{id}/reassign/" in text
    assert "/api/v1/interactions/{id}/complete-follow-up/" in text


def test_schema_and_swagger_ui_are_served_without_a_cdn(client, manager_a):
    client.force_login(manager_a)
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html
    assert "unpkg" not in html
    # The Swagger UI assets come from the sidecar package, served by the app itself.
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    # static(): the manifest's hashed name under the production settings
    assert static("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js") in html


def test_deleting_a_segment_another_app_points_at_is_a_409_not_a_500(admin_user):
    aimed_at = SegmentFactory(name="Targeted")
    Offer.objects.create(name="Spring deal", coupon_code="SPRING", segment=aimed_at)
    response = client_for(admin_user).delete(f"/api/v1/segments/{aimed_at.pk}/")
    assert response.status_code == 409
    assert "still used by offers" in response.json()["detail"]
    assert Segment.objects.filter(pk=aimed_at.pk).exists()


def test_the_api_changes_the_fields_the_services_accept():
    # The serializer declares each field's type, so it cannot read the list itself.
    assert set(CustomerUpdateSerializer().fields) == {*Customer.EDITABLE_FIELDS, "tags"}
