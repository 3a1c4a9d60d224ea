"""Merging two records of one customer: everything moves to the survivor in one
transaction, points totals are kept, unique keys elsewhere do not break it."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.urls import reverse
from rest_framework.test import APIClient

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.hooks import MergeContext, _merge_listeners
from customers.merging import customer_merge, customer_merge_preview
from customers.models import (
    AccountManagerAssignment,
    Customer,
    CustomerMerge,
    DeletionRequest,
    Purchase,
    Tag,
)
from customers.selectors import merged_survivor_id
from loyalty import services as loyalty_services
from loyalty.models import LedgerEntry, Membership
from relationships.community.models import Idea, IdeaVote, Review
from relationships.models import Interaction, LadderSuggestion, RiskFlag
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    LadderSuggestionFactory,
    MembershipFactory,
    ProgramFactory,
    PurchaseFactory,
    RiskFlagFactory,
    UserFactory,
)


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _review(customer, product: str, body: str = "Good") -> Review:
    return Review.objects.create(
        customer=customer, product=product, rating=4, body=body, body_html=f"<p>{body}</p>"
    )


@pytest.fixture
def pair(manager_a):
    survivor = CustomerFactory(name="Nordwind GmbH", account_manager=manager_a, phone="")
    absorbed = CustomerFactory(
        name="Nordwind", account_manager=manager_a, phone="+49 30 1", external_id="ERP-7"
    )
    return survivor, absorbed


def test_merge_moves_purchases_interactions_and_history(admin_user, pair):
    survivor, absorbed = pair
    PurchaseFactory(customer=survivor, reference="INV-1")
    PurchaseFactory(customer=absorbed, reference="INV-1")
    PurchaseFactory(customer=absorbed, reference="INV-2")
    InteractionFactory(customer=absorbed)
    absorbed.tags.add(Tag.objects.create(name="wholesale"))

    record = customer_merge(actor=admin_user, survivor=survivor, absorbed=absorbed)

    assert not Customer.objects.filter(pk=absorbed.pk).exists()
    refs = sorted(Purchase.objects.filter(customer=survivor).values_list("reference", flat=True))
    assert refs == ["INV-1", f"INV-1 (from #{absorbed.pk})", "INV-2"]
    assert Interaction.objects.filter(customer=survivor).count() == 1
    assignments = AccountManagerAssignment.objects.filter(customer=survivor)
    assert assignments.filter(ended_at__isnull=True).count() == 1
    assert list(survivor.tags.values_list("name", flat=True)) == ["wholesale"]
    survivor.refresh_from_db()
    assert survivor.phone == "+49 30 1"  # blank on the survivor, filled in
    assert survivor.external_id == "ERP-7"
    assert record.merged_by == admin_user
    assert record.absorbed_id == absorbed.pk
    assert record.moved["Purchases"] == 2
    assert record.moved["Interactions"] == 1
    assert merged_survivor_id(absorbed.pk) == survivor.pk


def test_merge_keeps_points_totals_of_one_program(admin_user, pair):
    survivor, absorbed = pair
    program = ProgramFactory()
    kept = MembershipFactory(program=program, customer=survivor)
    gone = MembershipFactory(program=program, customer=absorbed)
    other = MembershipFactory(customer=absorbed)  # a program only the absorbed one is in
    for membership, points in ((kept, 120), (gone, 30), (gone, 5), (other, 40)):
        loyalty_services.points_adjust(
            membership=membership,
            points=points,
            reason="welcome",
            actor=admin_user,
            idempotency_key="same-key" if points != 5 else "other",
        )
    before = Membership.objects.aggregate(total=Sum("balance"))["total"]

    record = customer_merge(actor=admin_user, survivor=survivor, absorbed=absorbed)

    kept.refresh_from_db()
    assert kept.balance == 155
    assert LedgerEntry.objects.filter(membership=kept).count() == 3
    assert (
        sum(LedgerEntry.objects.filter(membership=kept).values_list("remaining", flat=True)) == 155
    )
    assert Membership.objects.filter(customer=survivor).count() == 2
    assert Membership.objects.aggregate(total=Sum("balance"))["total"] == before == 195
    assert record.moved["Loyalty memberships"] == 2
    assert any("155" in note for note in record.notes)


def test_merge_with_unique_rows_in_community_and_relationships(admin_user, pair):
    survivor, absorbed = pair
    _review(survivor, "Widget", "Mine")
    _review(absorbed, "Widget", "Theirs")
    _review(absorbed, "Gadget")
    RiskFlagFactory(customer=survivor)
    RiskFlagFactory(customer=absorbed)
    LadderSuggestionFactory(customer=survivor)
    LadderSuggestionFactory(customer=absorbed)
    voter = UserFactory(role="customer")
    idea = Idea.objects.create(customer=survivor, title="Dark", body="x", body_html="x")
    IdeaVote.objects.create(idea=idea, user=voter, customer=absorbed)

    record = customer_merge(actor=admin_user, survivor=survivor, absorbed=absorbed)

    assert sorted(Review.objects.filter(customer=survivor).values_list("body", flat=True)) == [
        "Good",
        "Mine",
    ]
    assert RiskFlag.objects.filter(customer=survivor).count() == 2
    assert RiskFlag.objects.filter(customer=survivor, cleared_on__isnull=True).count() == 1
    assert LadderSuggestion.objects.filter(customer=survivor, status="open").count() == 1
    assert IdeaVote.objects.get().customer == survivor
    assert any("Widget" in note for note in record.notes)


@pytest.mark.postgres(reason="partial unique indexes checked by PostgreSQL at each statement")
def test_merge_respects_unique_keys_on_postgresql(admin_user, pair):
    test_merge_with_unique_rows_in_community_and_relationships(admin_user, pair)


def test_merge_is_one_transaction(admin_user, pair):
    survivor, absorbed = pair
    PurchaseFactory(customer=absorbed)

    def refuse(context: MergeContext) -> None:
        raise Conflict("stop")

    _merge_listeners.append(refuse)
    try:
        with pytest.raises(Conflict):
            customer_merge(actor=admin_user, survivor=survivor, absorbed=absorbed)
    finally:
        _merge_listeners.remove(refuse)
    assert Purchase.objects.filter(customer=absorbed).count() == 1
    assert not CustomerMerge.objects.exists()
    absorbed.refresh_from_db()
    assert absorbed.external_id == "ERP-7"


def test_only_an_admin_merges(manager_a, pair):
    survivor, absorbed = pair
    with pytest.raises(NotAllowed):
        customer_merge(actor=manager_a, survivor=survivor, absorbed=absorbed)
    with pytest.raises(NotAllowed):
        customer_merge_preview(actor=manager_a, survivor=survivor, absorbed=absorbed)


def test_a_customer_is_not_merged_into_itself(admin_user, pair):
    with pytest.raises(ValidationFailed):
        customer_merge(actor=admin_user, survivor=pair[0], absorbed=pair[0])


def test_two_pending_deletion_requests_stop_the_merge(admin_user, pair):
    for customer in pair:
        DeletionRequest.objects.create(customer=customer)
    preview = customer_merge_preview(actor=admin_user, survivor=pair[0], absorbed=pair[1])
    assert preview.problems
    with pytest.raises(Conflict):
        customer_merge(actor=admin_user, survivor=pair[0], absorbed=pair[1])


def test_preview_counts_what_moves_without_writing(admin_user, pair):
    survivor, absorbed = pair
    PurchaseFactory(customer=survivor)
    PurchaseFactory.create_batch(2, customer=absorbed)

    preview = customer_merge_preview(actor=admin_user, survivor=survivor, absorbed=absorbed)

    assert ("Purchases", 1, 2) in preview.rows
    assert ("Phone", "+49 30 1") in preview.fills
    assert Purchase.objects.filter(customer=absorbed).count() == 2


def test_the_absorbed_login_follows_to_a_survivor_without_one(admin_user, pair):
    survivor, absorbed = pair
    login = UserFactory(role="customer")
    absorbed.user = login
    absorbed.save()

    customer_merge(actor=admin_user, survivor=survivor, absorbed=absorbed)

    survivor.refresh_from_db()
    assert survivor.user == login


# ---------------------------------------------------------------- page and API


def test_merge_page_suggests_compares_and_merges(client, admin_user, pair):
    survivor, absorbed = pair
    absorbed.email = survivor.email
    absorbed.save()
    PurchaseFactory.create_batch(2, customer=absorbed)
    client.force_login(admin_user)
    url = reverse("customer-merge", args=[survivor.pk])

    page = client.get(url).content.decode()
    assert f"?other={absorbed.pk}" in page  # the look-alike with the same e-mail

    page = client.get(url, {"other": absorbed.pk}).content.decode()
    assert "Side by side" in page
    assert "+49 30 1" in page
    assert '<th scope="row">Purchases</th><td>0</td><td>2</td>' in page

    response = client.post(f"{url}?other={absorbed.pk}", follow=True)

    assert response.redirect_chain[-1][0] == reverse("customer-detail", args=[survivor.pk])
    page = response.content.decode()
    assert "was merged into this record. Moved here:" in page
    assert "purchases 2" in page
    assert not Customer.objects.filter(pk=absorbed.pk).exists()


def test_the_old_address_leads_to_the_survivor(client, admin_user, pair):
    survivor, absorbed = pair
    customer_merge(actor=admin_user, survivor=survivor, absorbed=absorbed)
    client.force_login(admin_user)

    response = client.get(reverse("customer-detail", args=[absorbed.pk]))

    assert response.status_code == 302
    assert response.url == reverse("customer-detail", args=[survivor.pk])


def test_merge_page_says_when_the_other_record_does_not_exist(client, admin_user, pair):
    client.force_login(admin_user)
    response = client.get(reverse("customer-merge", args=[pair[0].pk]), {"other": 999_999})
    assert "There is no customer #999999" in response.content.decode()


def test_a_manager_cannot_merge_even_their_own_customers(client, manager_a, pair):
    survivor, absorbed = pair
    client.force_login(manager_a)
    url = reverse("customer-merge", args=[survivor.pk])
    assert client.post(f"{url}?other={absorbed.pk}").status_code == 403
    assert (
        api_client(manager_a)
        .post("/api/v1/customer-merges/", {"survivor": survivor.pk, "absorbed": absorbed.pk})
        .status_code
        == 403
    )
    assert Customer.objects.filter(pk=absorbed.pk).exists()


def test_api_previews_and_merges(admin_user, pair):
    survivor, absorbed = pair
    PurchaseFactory(customer=absorbed)
    api = api_client(admin_user)
    body = {"survivor": survivor.pk, "absorbed": absorbed.pk}

    preview = api.get("/api/v1/customer-merges/preview/", body)
    assert preview.status_code == 200
    assert {"kind": "Purchases", "survivor": 0, "absorbed": 1} in preview.json()["moves"]

    response = api.post("/api/v1/customer-merges/", body, format="json")
    assert response.status_code == 201
    assert response.json()["moved"]["Purchases"] == 1
    assert response.json()["absorbed_id"] == absorbed.pk
    again = api.post("/api/v1/customer-merges/", body, format="json")
    assert again.status_code == 400  # the absorbed customer is gone
    assert "absorbed" in again.json()
    assert api.get("/api/v1/customer-merges/").json()["results"][0]["id"] == response.json()["id"]


def test_a_unique_relation_without_a_listener_stops_the_merge(admin_user, pair, monkeypatch):
    survivor, absorbed = pair
    _review(absorbed, "Widget")
    PurchaseFactory(customer=absorbed)
    kept = [fn for fn in _merge_listeners if fn.__name__ != "community_merge"]
    monkeypatch.setattr("customers.hooks._merge_listeners", kept)

    with pytest.raises(Conflict, match="Reviews of the absorbed customer cannot be moved"):
        customer_merge(actor=admin_user, survivor=survivor, absorbed=absorbed)

    assert Purchase.objects.filter(customer=absorbed).count() == 1
