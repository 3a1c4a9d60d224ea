"""Product reviews: one per customer and bought product, rated 1 to 5, moderated by staff;
approval fires the review loyalty event once; only approved reviews reach other customers."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from customers.errors import Conflict, NotAllowed, ValidationFailed
from loyalty.models import LedgerEntry
from relationships.community import selectors, services
from relationships.community.models import Review
from tests.community.cocreation import event_rule, portal_customer
from tests.factories import PurchaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(manager_a, manager_b):
    anna, anna_c = portal_customer("anna", manager=manager_a)
    ben, ben_c = portal_customer("ben", manager=manager_b)
    PurchaseFactory(customer=anna_c, product="Widget Pro")
    PurchaseFactory(customer=anna_c, product="widget pro")  # the same product, other case
    PurchaseFactory(customer=anna_c, product="Gadget")
    PurchaseFactory(customer=ben_c, product="Widget Pro")
    return {"anna": anna, "anna_c": anna_c, "ben": ben, "ben_c": ben_c}


def write(user, product="Widget Pro", rating=4, body="Solid, *fast*."):
    return services.review_write(user=user, product=product, rating=rating, body=body)


def test_review_of_a_bought_product_waits_for_moderation(people):
    review = write(people["anna"], product="WIDGET PRO")
    assert review.product == "Widget Pro"  # as the purchases spell it
    assert review.status == "pending"
    assert "<em>fast</em>" in review.body_html


@pytest.mark.parametrize("rating", [0, 6, -1, "5", 4.5, True, None])
def test_rating_outside_1_to_5_is_refused(people, rating):
    with pytest.raises(ValidationFailed, match="1 to 5"):
        write(people["anna"], rating=rating)


def test_rating_constraint_in_the_database(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            customer=people["anna_c"], product="Gadget", rating=6, body="x", body_html="x"
        )


def test_only_products_bought_and_only_once(people, manager_a):
    with pytest.raises(ValidationFailed, match="bought"):
        write(people["anna"], product="Spaceship")
    write(people["anna"])
    with pytest.raises(Conflict, match="already reviewed"):
        write(people["anna"], product="widget pro")
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            customer=people["anna_c"], product="Widget Pro", rating=3, body="x", body_html="x"
        )
    with pytest.raises(NotAllowed):
        write(manager_a)
    assert selectors.reviewable_products(customer=people["anna_c"]) == ["Gadget"]


def test_nul_bytes_and_empty_text_are_refused(people):
    with pytest.raises(ValidationFailed):
        write(people["anna"], body="bad\x00")
    with pytest.raises(ValidationFailed):
        write(people["anna"], body="   ")


def test_pending_review_is_seen_by_its_customer_and_staff_only(people, manager_b):
    review = write(people["anna"])
    assert selectors.reviews_visible_to(people["anna"]).filter(pk=review.pk).exists()
    assert not selectors.reviews_visible_to(people["ben"]).filter(pk=review.pk).exists()
    assert selectors.reviews_visible_to(manager_b).filter(pk=review.pk).exists()
    services.review_moderate(actor=manager_b, review=review, approve=True)
    assert selectors.reviews_visible_to(people["ben"]).filter(pk=review.pk).exists()
    services.review_moderate(actor=manager_b, review=review, approve=False, reason="Off topic")
    assert not selectors.reviews_visible_to(people["ben"]).filter(pk=review.pk).exists()


def test_moderation_rules(people, manager_a):
    review = write(people["anna"])
    with pytest.raises(NotAllowed):
        services.review_moderate(actor=people["ben"], review=review, approve=True)
    with pytest.raises(ValidationFailed, match="reason"):
        services.review_moderate(actor=manager_a, review=review, approve=False, reason=" ")
    services.review_moderate(actor=manager_a, review=review, approve=True)
    with pytest.raises(Conflict, match="already approved"):
        services.review_moderate(actor=manager_a, review=review, approve=True)


def test_approval_fires_the_review_event_once(people, admin_user):
    membership = event_rule(people["anna_c"], "review", points=30)
    review = write(people["anna"])
    services.review_moderate(actor=admin_user, review=review, approve=True)
    services.review_moderate(actor=admin_user, review=review, approve=False, reason="Oops")
    services.review_moderate(actor=admin_user, review=review, approve=True)
    assert LedgerEntry.objects.filter(membership=membership, event_code="review").count() == 1
    membership.refresh_from_db()
    assert membership.balance + membership.pending_points == 30


def test_rejection_does_not_earn(people, admin_user):
    event_rule(people["anna_c"], "review")
    review = write(people["anna"])
    services.review_moderate(actor=admin_user, review=review, approve=False, reason="Spam")
    assert not LedgerEntry.objects.exists()


# --- pages ------------------------------------------------------------------------------


def test_customer_writes_a_review_on_the_page(client, people):
    client.force_login(people["anna"])
    page = client.get(reverse("community:review-list")).content.decode()
    assert "Widget Pro" in page
    assert "Gadget" in page
    url = reverse("community:review-create")
    for bad in (
        {"product": "Widget Pro", "rating": "0", "body": "x"},
        {"product": "Widget Pro", "rating": "6", "body": "x"},
        {"product": "Spaceship", "rating": "5", "body": "x"},
    ):
        response = client.post(url, bad)
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
    # A NUL: the form's validator (200) or the app's NUL middleware (400), in words.
    response = client.post(url, {"product": "Widget Pro", "rating": "5", "body": "a\x00b"})
    assert response.status_code in (200, 400)
    assert "null character" in response.content.decode().lower()
    response = client.post(url, {"product": "Widget Pro", "rating": "5", "body": "Great"})
    assert response.status_code == 302
    second = client.post(url, {"product": "Widget Pro", "rating": "4", "body": "Again"})
    assert second.status_code == 200
    assert "not reviewed yet" in second.content.decode()
    assert Review.objects.count() == 1


def test_other_customers_see_approved_reviews_only(client, people, manager_a):
    pending = write(people["anna"], product="Gadget", body="Pending words")
    approved = write(people["anna"], body="Approved words")
    services.review_moderate(actor=manager_a, review=approved, approve=True)
    client.force_login(people["ben"])
    page = client.get(reverse("community:review-list")).content.decode()
    assert "Approved words" in page
    assert "Pending words" not in page
    client.force_login(people["anna"])
    page = client.get(reverse("community:review-list")).content.decode()
    assert "Pending words" in page
    assert pending.get_status_display() in page


def test_staff_queue_and_moderation_page(client, people, manager_b):
    review = write(people["anna"], body="<script>alert(1)</script>")
    client.force_login(people["ben"])
    assert client.get(reverse("community:review-queue")).status_code == 403
    moderate = reverse("community:review-moderate", args=[review.pk])
    assert client.post(moderate, {"decision": "approved"}).status_code == 403
    client.force_login(manager_b)
    page = client.get(reverse("community:review-queue")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    response = client.post(moderate, {"decision": "rejected", "reason": ""}, follow=True)
    assert "The reason is required." in response.content.decode()
    client.post(moderate, {"decision": "approved"})
    review.refresh_from_db()
    assert review.status == "approved"
    assert review.moderated_by == manager_b


# --- API --------------------------------------------------------------------------------


def test_api_reviews_role_rules(client, people, manager_a):
    client.force_login(people["anna"])
    url = "/api/v1/reviews/"
    for rating in (0, 6, "x"):
        body = {"product": "Widget Pro", "rating": rating, "body": "x"}
        assert client.post(url, body, content_type="application/json").status_code == 400
    created = client.post(
        url,
        {"product": "Widget Pro", "rating": 5, "body": "Great"},
        content_type="application/json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    again = client.post(
        url, {"product": "Widget Pro", "rating": 4, "body": "x"}, content_type="application/json"
    )
    assert again.status_code == 409
    assert client.post(f"{url}{pk}/approve/").status_code == 403
    client.force_login(people["ben"])
    assert client.get(f"{url}{pk}/").status_code == 404
    client.force_login(manager_a)
    assert client.post(f"{url}{pk}/reject/", {}, content_type="application/json").status_code == 400
    approved = client.post(f"{url}{pk}/approve/")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    client.force_login(people["ben"])
    listed = client.get(url).json()["results"]
    assert [r["id"] for r in listed] == [pk]
    assert "customer" not in listed[0]
