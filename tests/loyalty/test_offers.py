"""Offers in the app: the customer page lists the offers a customer may use and has used,
an account manager hands one out (page and API, once, only in their book), and the program
page counts uses, hand-outs and conversion."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.errors import Conflict, NotAllowed
from loyalty.models import Offer, OfferGrant, OfferReach, OfferRedemption
from loyalty.selectors import customer_offers, offer_audience
from loyalty.services import offer_grant, offer_reach_refresh, offer_redeem
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    ProgramFactory,
    PurchaseFactory,
    SegmentFactory,
    TierFactory,
)


@pytest.fixture
def retail(db):
    return SegmentFactory(name="Retail")


@pytest.fixture
def coffee_offer(retail):
    return Offer.objects.create(
        name="Tea tasting", coupon_code="TEA10", segment=retail, bought_category="Coffee",
        not_bought_category="Tea",
    )  # fmt: skip


def _page(client, user, customer) -> str:
    client.force_login(user)
    response = client.get(reverse("customer-detail", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------- who is eligible


def test_the_customer_page_lists_an_offer_only_for_customers_it_targets(
    client, manager_a, retail, coffee_offer
):
    targeted = CustomerFactory(account_manager=manager_a, segment=retail, name="Targeted")
    PurchaseFactory(customer=targeted, category="coffee")  # case does not matter
    other_segment = CustomerFactory(account_manager=manager_a, name="Elsewhere")
    PurchaseFactory(customer=other_segment, category="Coffee")
    has_both = CustomerFactory(account_manager=manager_a, segment=retail, name="Both")
    PurchaseFactory(customer=has_both, category="Coffee")
    PurchaseFactory(customer=has_both, category="Tea")

    html = _page(client, manager_a, targeted)
    assert "Tea tasting" in html
    assert "Give this offer" in html
    for customer in (other_segment, has_both):
        html = _page(client, manager_a, customer)
        assert "Tea tasting" not in html
        assert "No offer is meant for this customer today." in html


def test_eligibility_follows_tier_dates_and_limits(manager_a, customer_a):
    program = ProgramFactory()
    gold = TierFactory(program=program, name="Gold", threshold=1000)
    today = timezone.localdate()
    for_gold = Offer.objects.create(name="Gold only", coupon_code="G", tier=gold)
    Offer.objects.create(name="Old", coupon_code="O", valid_until=today - dt.timedelta(days=1))
    once = Offer.objects.create(name="Once", coupon_code="ONCE", per_customer_limit=1)
    offer_redeem(offer=once, customer=customer_a, actor=manager_a)

    offers = customer_offers(customer=customer_a)
    assert [o.name for o in offers["eligible"]] == []
    assert [(o.name, o.used_mine) for o in offers["used"]] == [("Once", 1)]

    MembershipFactory(program=program, customer=customer_a, tier=gold)
    assert [o.name for o in customer_offers(customer=customer_a)["eligible"]] == ["Gold only"]
    assert customer_a in offer_audience(offer=for_gold)


def test_used_offers_show_on_the_customer_page(client, manager_a, customer_a):
    offer = Offer.objects.create(name="Spring deal", coupon_code="SPRING", per_customer_limit=1)
    offer_redeem(offer=offer, customer=customer_a, actor=manager_a)
    html = _page(client, manager_a, customer_a)
    assert "Used:" in html
    assert "Spring deal" in html
    assert "used 1 time" in html
    assert "Give this offer" not in html  # used up: nothing left to hand out


# ---------------------------------------------------------------- handing out, page


def test_an_account_manager_hands_an_offer_once_from_the_customer_page(
    client, manager_a, customer_a
):
    offer = Offer.objects.create(name="Welcome back", coupon_code="BACK")
    client.force_login(manager_a)
    url = reverse("loyalty-offer-give", args=[customer_a.pk])

    response = client.post(url, {"offer": offer.pk}, follow=True)
    html = response.content.decode()
    assert "Welcome back handed to Acme Alpha" in html
    assert "Handed out " in html
    assert "by Alice Anders" in html
    grant = OfferGrant.objects.get()
    assert (grant.offer, grant.customer, grant.granted_by) == (offer, customer_a, manager_a)

    again = client.post(url, {"offer": offer.pk}, follow=True).content.decode()
    assert "already had Welcome back" in again
    assert OfferGrant.objects.count() == 1


def test_another_managers_customer_is_a_404_and_nothing_is_handed(client, manager_a, customer_b):
    offer = Offer.objects.create(name="Welcome back", coupon_code="BACK")
    client.force_login(manager_a)
    response = client.post(reverse("loyalty-offer-give", args=[customer_b.pk]), {"offer": offer.pk})
    assert response.status_code == 404
    assert not OfferGrant.objects.exists()


def test_an_admin_hands_offers_to_anyone(client, admin_user, customer_b):
    offer = Offer.objects.create(name="Welcome back", coupon_code="BACK")
    client.force_login(admin_user)
    client.post(reverse("loyalty-offer-give", args=[customer_b.pk]), {"offer": offer.pk})
    assert OfferGrant.objects.get().granted_by == admin_user


def test_an_offer_the_customer_cannot_use_is_refused_with_the_reason(
    client, manager_a, customer_a, retail, coffee_offer
):
    client.force_login(manager_a)
    url = reverse("loyalty-offer-give", args=[customer_a.pk])
    html = client.post(url, {"offer": coffee_offer.pk}, follow=True).content.decode()
    assert "Offer not handed out" in html
    assert "not targeted at them" in html
    missing = client.post(url, {}, follow=True).content.decode()
    assert "Offer not handed out: offer: Choose an offer." in missing
    unknown = client.post(url, {"offer": 999999}, follow=True).content.decode()
    assert "no such offer" in unknown
    assert not OfferGrant.objects.exists()


def test_the_service_refuses_customers_outside_the_book(manager_a, customer_b, customer_user):
    offer = Offer.objects.create(name="Welcome back", coupon_code="BACK")
    with pytest.raises(NotAllowed):
        offer_grant(offer=offer, customer=customer_b, actor=manager_a)
    with pytest.raises(NotAllowed):
        offer_grant(offer=offer, customer=customer_b, actor=customer_user)
    assert not OfferGrant.objects.exists()


def test_an_offer_used_up_in_total_cannot_be_handed(manager_a, admin_user, customer_a):
    other = CustomerFactory()
    offer = Offer.objects.create(name="Last one", coupon_code="LAST", usage_limit=1)
    offer_redeem(offer=offer, customer=other, actor=admin_user)
    with pytest.raises(Conflict):
        offer_grant(offer=offer, customer=customer_a, actor=manager_a)


# ---------------------------------------------------------------- handing out, API


def _api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _give(client, offer, customer):
    return client.post(
        reverse("api-loyalty-offer-give", args=[offer.pk]),
        json.dumps({"customer": customer.pk}),
        content_type="application/json",
    )


def test_api_give_is_201_then_200_with_the_same_hand_out(manager_a, customer_a):
    offer = Offer.objects.create(name="Welcome back", coupon_code="BACK")
    api = _api(manager_a)
    first = _give(api, offer, customer_a)
    assert first.status_code == 201
    assert first.json()["customer"] == customer_a.pk
    assert first.json()["coupon_code"] == "BACK"
    second = _give(api, offer, customer_a)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert OfferGrant.objects.count() == 1


def test_api_give_other_managers_customer_404_customer_403_not_targeted_409(
    manager_a, customer_b, customer_a, customer_user, retail, coffee_offer
):
    offer = Offer.objects.create(name="Welcome back", coupon_code="BACK")
    assert _give(_api(manager_a), offer, customer_b).status_code == 404
    assert _give(_api(customer_user), offer, customer_a).status_code == 403
    refused = _give(_api(manager_a), coffee_offer, customer_a)
    assert refused.status_code == 409
    assert "not targeted at them" in refused.content.decode()
    bad = _api(manager_a).post(
        reverse("api-loyalty-offer-give", args=[offer.pk]),
        json.dumps({"customer": "abc"}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "customer" in bad.json()
    assert not OfferGrant.objects.exists()


def test_api_for_customer_lists_eligible_and_used_offers(manager_a, customer_a, customer_b):
    usable = Offer.objects.create(name="Usable", coupon_code="USE")
    used = Offer.objects.create(name="Used", coupon_code="USED", per_customer_limit=1)
    offer_redeem(offer=used, customer=customer_a, actor=manager_a)
    offer_grant(offer=usable, customer=customer_a, actor=manager_a)
    api = _api(manager_a)
    url = reverse("api-loyalty-offer-for-customer")
    body = api.get(url, {"customer": customer_a.pk}).json()
    assert [(o["name"], o["handed_out_by"]) for o in body["eligible"]] == [
        ("Usable", "Alice Anders")
    ]
    assert [(o["name"], o["uses"]) for o in body["used"]] == [("Used", 1)]
    assert api.get(url, {"customer": customer_b.pk}).status_code == 404
    assert api.get(url).status_code == 400


# ---------------------------------------------------------------- conversion


def test_conversion_is_customers_who_used_it_over_customers_it_reached(
    client, admin_user, manager_a, retail
):
    """Hand-computed: the offer targets the 4 Retail customers; a 5th customer (Wholesale)
    used it while they were still in Retail; one Retail customer was handed it. Reached =
    4 targeted + 1 who used it = 5; used by 2 (one Retail, the moved one) => 40.0 %."""
    program = ProgramFactory(name="Club")
    offer = Offer.objects.create(
        name="Retail welcome", coupon_code="RW", segment=retail, program=program,
        per_customer_limit=3,
    )  # fmt: skip
    retail_customers = [
        CustomerFactory(segment=retail, account_manager=manager_a) for _ in range(4)
    ]
    moved = CustomerFactory(segment=retail)
    offer_redeem(offer=offer, customer=moved, actor=admin_user)
    moved.segment = SegmentFactory(name="Wholesale")
    moved.save()
    offer_grant(offer=offer, customer=retail_customers[0], actor=manager_a)
    offer_redeem(offer=offer, customer=retail_customers[0], actor=manager_a)
    offer_redeem(offer=offer, customer=retail_customers[0], actor=manager_a)  # a 2nd use
    CustomerFactory()  # not targeted, never touched it
    Offer.objects.create(name="Other club", coupon_code="OC", program=ProgramFactory())

    assert offer_reach_refresh(run_date=timezone.localdate()) == 2
    reach = OfferReach.objects.get(offer=offer)
    assert (reach.reached, reach.used) == (5, 2)
    assert reach.conversion_percent == 40.0

    client.force_login(admin_user)
    html = client.get(reverse("loyalty-program", args=[program.pk])).content.decode()
    assert "Retail welcome" in html
    assert "40.0%" in html
    assert "2 of 5" in html
    assert "Other club" not in html  # another program's offer
    assert "Conversion</strong> = customers who used the offer" in html

    stats = _api(admin_user).get(reverse("api-loyalty-offer-stats", args=[offer.pk])).json()
    assert stats == {
        "offer": offer.pk,
        "uses": 3,
        "customers_used": 2,
        "handed_out": 1,
        "handed_used": 1,
        "reached": 5,
        "reached_used": 2,
        "conversion_percent": 40.0,
        "counted_on": timezone.localdate().isoformat(),
    }


def test_the_program_page_lists_an_uncounted_offer_with_live_figures(client, admin_user):
    program = ProgramFactory(name="Club")
    gold = TierFactory(program=program, name="Gold", threshold=100)
    offer = Offer.objects.create(name="Gold weekend", coupon_code="GW", tier=gold)
    OfferRedemption.objects.create(offer=offer, customer=CustomerFactory())
    client.force_login(admin_user)
    html = client.get(reverse("loyalty-program", args=[program.pk])).content.decode()
    assert "Gold weekend" in html
    assert "tier Gold" in html
    assert "after the next night" in html


def test_an_offers_tier_must_belong_to_its_program(admin_user):
    gold = TierFactory(program=ProgramFactory(name="A"), name="Gold", threshold=100)
    api = _api(admin_user)
    response = api.post(
        reverse("api-loyalty-offer-list"),
        json.dumps(
            {
                "name": "Mixed",
                "coupon_code": "MIX",
                "tier": gold.pk,
                "program": ProgramFactory(name="B").pk,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "another program" in response.content.decode()
