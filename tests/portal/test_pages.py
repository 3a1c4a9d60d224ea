"""The portal's pages: every action confirms what happened, every error says what to do."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Customer, DeletionRequest
from loyalty.models import Membership, Redemption
from relationships.support.services import support_staff_reply
from tests.factories import PurchaseFactory


@pytest.fixture
def client_x(x) -> Client:
    client = Client()
    client.force_login(x.user)
    return client


def test_profile_edit_confirms_and_a_bad_email_says_what_to_fix(client_x, x):
    response = client_x.post(
        reverse("portal-profile"), {"name": "Xavier New", "email": "new@example.com"}, follow=True
    )
    assert "Your contact details are saved." in response.content.decode()
    assert Customer.objects.get(pk=x.customer.pk).email == "new@example.com"
    response = client_x.post(reverse("portal-profile"), {"name": "", "email": "not-an-email"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please give your name." in html
    assert "Enter a valid email address." in html
    assert Customer.objects.get(pk=x.customer.pk).name == "Xavier New"


def test_preferences_confirm_the_newsletter_choice_with_its_date(client_x, x):
    response = client_x.post(
        reverse("portal-preferences"), {"newsletter": "on", "allows_email": "on"}, follow=True
    )
    html = response.content.decode()
    assert "you will get the newsletter" in html
    assert "You said yes on" in html
    assert client_x.get(reverse("portal-preferences")).status_code == 405


def test_purchases_show_history_and_totals_per_currency(client_x, x):
    PurchaseFactory(customer=x.customer, amount="10.00", currency="USD", reference="INV-USD")
    html = client_x.get(reverse("portal-purchases")).content.decode()
    assert "INV-XMARK" in html
    assert "INV-USD" in html
    assert "Spent in EUR" in html
    assert "Spent in USD" in html
    assert client_x.get(reverse("portal-purchases") + "?page=abc").status_code == 200


def test_loyalty_shows_balance_tier_progress_rewards_and_offers(client_x, x, shared_program):
    from tests.factories import RewardFactory, TierFactory

    TierFactory(program=shared_program, name="Gold", threshold=5000, perks="Lounge")
    RewardFactory(program=shared_program, name="Mug", cost=200)
    RewardFactory(program=shared_program, name="Trip", cost=90000)
    html = client_x.get(reverse("portal-loyalty")).content.decode()
    assert "1,000" in html  # the balance in the shared club
    assert "to reach <strong>Gold</strong>" in html
    assert "Mug" in html
    assert "Trip" in html
    assert "more stars needed" in html
    assert "XONLY" in html


def test_redeeming_asks_first_then_gives_the_code_once(client_x, x, shared_program):
    from tests.factories import RewardFactory

    mug = RewardFactory(program=shared_program, name="Mug", cost=200)
    page = client_x.get(reverse("portal-reward-redeem", args=[mug.pk]))
    html = page.content.decode()
    assert "Yes, redeem for 200 stars" in html
    assert "800 stars" in html
    assert not Redemption.objects.filter(reward=mug).exists()
    key = page.context["form"]["key"].value()
    url = reverse("portal-reward-redeem", args=[mug.pk])
    response = client_x.post(url, {"key": key})
    redemption = Redemption.objects.get(reward=mug)
    assert response["Location"] == reverse("portal-redemption", args=[redemption.pk])
    again = client_x.post(url, {"key": key})  # a double click: the same redemption
    assert again.status_code == 302
    assert Redemption.objects.filter(reward=mug).count() == 1
    html = client_x.get(response["Location"]).content.decode()
    assert redemption.code in html
    assert "Done: Mug is yours" in html
    assert Membership.objects.get(pk=x.membership.pk).balance == 800


def test_a_refused_redemption_says_why_and_that_nothing_was_taken(client_x, x, shared_program):
    from tests.factories import RewardFactory

    trip = RewardFactory(program=shared_program, name="Trip", cost=90000)
    page = client_x.get(reverse("portal-reward-redeem", args=[trip.pk])).content.decode()
    assert "You cannot redeem this reward right now" in page
    response = client_x.post(reverse("portal-reward-redeem", args=[trip.pk]), {"key": "k1"})
    assert response.status_code == 409
    assert "Nothing was taken from your balance." in response.content.decode()
    assert Membership.objects.get(pk=x.membership.pk).balance == 1000


def test_cancelling_a_redemption_gives_the_points_back(client_x, x):
    response = client_x.post(
        reverse("portal-redemption-cancel", args=[x.redemption.pk]), follow=True
    )
    assert "are back on your balance" in response.content.decode()
    x.redemption.refresh_from_db()
    assert x.redemption.status == "cancelled"


def test_the_deletion_request_needs_the_box_ticked_then_can_be_withdrawn(client_x, x):
    response = client_x.post(reverse("portal-deletion"), {"reason": "bye"})
    assert response.status_code == 400
    assert "Tick the box to confirm" in response.content.decode()
    response = client_x.post(reverse("portal-deletion"), {"confirm": "on"}, follow=True)
    assert "We have your request." in response.content.decode()
    assert DeletionRequest.objects.filter(customer=x.customer, status="pending").exists()
    response = client_x.post(reverse("portal-deletion-withdraw"), follow=True)
    assert "withdrawn; your account stays open" in response.content.decode()


def test_the_export_is_json_of_everything_theirs_without_staff_notes(client_x, x, manager_a):
    support_staff_reply(
        request=x.support_request, actor=manager_a, body="Internal: courier late", internal=True
    )
    support_staff_reply(request=x.support_request, actor=manager_a, body="It ships today.")
    response = client_x.get(reverse("portal-export"))
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profile"]["name"] == "Xavier Xample"
    assert [p["reference"] for p in data["purchases"]] == ["INV-XMARK"]
    assert data["contacts_with_us"][0]["subject"] == "Check-in"
    assert {m["program"] for m in data["loyalty"]} == {"Club", "Club xavier"}
    assert data["community"]["ideas"][0]["title"] == "Idea of Xavier Xample"
    assert "communication_preferences" in data
    assert "consent_history" in data
    (request,) = data["support_requests"]
    assert request["subject"] == "Parcel of Xavier Xample"
    assert request["messages"][0]["text"] == "Where is the parcel of Xavier Xample?"
    assert request["messages"][0]["attachment"] == "receipt.txt"
    assert [(m["from"], m["text"]) for m in request["messages"][1:]] == [
        ("staff", "It ships today.")
    ]
    body = response.content.decode()
    assert "Secret note" not in body  # staff's notes on interactions
    assert "Internal: courier late" not in body  # and on support requests
    assert "sentiment" not in body
    assert "risk" not in body.lower()


def test_error_pages_use_the_apps_layout(client_x):
    response = client_x.get("/my/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "We cannot find that page" in html
    assert 'class="topbar"' in html
    assert 'href="#main"' in html  # the skip link


def test_an_offer_the_account_manager_picked_is_marked_on_home_and_points_page(client_x, x, y):
    home = client_x.get(reverse("home")).content.decode()
    assert "For you" in home
    assert "picked for you by Alice" in home
    assert "XONLY" in home
    points = client_x.get(reverse("portal-loyalty")).content.decode()
    assert "Picked for you by Alice on" in points
    assert "YONLY" not in home + points  # Y's offer, handed to Y by Bob
    assert "Bob" not in home + points
