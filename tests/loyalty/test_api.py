import pytest
from rest_framework.test import APIClient

from loyalty.models import LedgerEntry, Membership, Program, Redemption, Tier
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    PurchaseFactory,
    RewardFactory,
    TierFactory,
)

API = "/api/v1/loyalty"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_admin_configures_a_program(admin_user):
    api = client_for(admin_user)
    r = api.post(
        f"{API}/programs/",
        {"name": "Stars", "points_name": "stars", "currency": "eur"},
        format="json",
    )
    assert r.status_code == 201, r.content
    program = Program.objects.get(name="Stars")
    assert program.currency == "EUR"
    r = api.post(
        f"{API}/tiers/", {"program": program.pk, "name": "Base", "threshold": "0"}, format="json"
    )
    assert r.status_code == 201
    r = api.post(
        f"{API}/tiers/", {"program": program.pk, "name": "Gold", "threshold": "0"}, format="json"
    )
    assert r.status_code == 400
    r = api.post(
        f"{API}/tiers/",
        {"program": program.pk, "name": "Silver", "threshold": "100", "multiplier": "0.5"},
        format="json",
    )
    assert r.status_code == 400
    assert "earns less" in r.json()["detail"]
    assert Tier.objects.filter(program=program).count() == 1


def test_contradictory_program_settings_are_refused(admin_user):
    api = client_for(admin_user)
    r = api.post(
        f"{API}/programs/",
        {
            "name": "Bad",
            "starts_on": "2026-05-01",
            "ends_on": "2026-01-01",
            "expiry_policy": "months",
        },
        format="json",
    )
    assert r.status_code == 400
    body = r.json()["detail"]
    assert "end before it starts" in body
    assert "how many months" in body


def test_rule_priority_must_be_unique_and_event_rules_need_points(admin_user, program):
    api = client_for(admin_user)
    ok = api.post(
        f"{API}/rules/",
        {"program": program.pk, "name": "Base", "kind": "per_money", "priority": 1},
        format="json",
    )
    assert ok.status_code == 201
    dup = api.post(
        f"{API}/rules/",
        {"program": program.pk, "name": "Dup", "kind": "per_money", "priority": 1},
        format="json",
    )
    assert dup.status_code == 400
    bad = api.post(
        f"{API}/rules/",
        {
            "program": program.pk,
            "name": "Review",
            "kind": "event",
            "priority": 2,
            "event_code": "review",
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "points above zero" in bad.json()["detail"]


def test_unaffordable_reward_is_refused(admin_user):
    program = Program.objects.create(name="Capped", expiry_policy="months", expiry_months=2)
    program.rules.create(name="Base", kind="per_money", priority=1, cap_per_month=100)
    api = client_for(admin_user)
    r = api.post(
        f"{API}/rewards/", {"program": program.pk, "name": "Yacht", "cost": 1000}, format="json"
    )
    assert r.status_code == 400
    assert "Nobody can afford" in r.json()["detail"]
    r = api.post(
        f"{API}/rewards/", {"program": program.pk, "name": "Mug", "cost": 150}, format="json"
    )
    assert r.status_code == 201


def test_reward_for_another_programs_tier_is_refused(admin_user, program):
    other_tier = TierFactory(name="Elsewhere")
    r = client_for(admin_user).post(
        f"{API}/rewards/",
        {"program": program.pk, "name": "X", "cost": 10, "tiers": [other_tier.pk]},
        format="json",
    )
    assert r.status_code == 400


def test_managers_read_but_do_not_configure(manager_a, program):
    api = client_for(manager_a)
    assert api.get(f"{API}/programs/").status_code == 200
    assert api.post(f"{API}/programs/", {"name": "Mine"}, format="json").status_code == 403


def test_deleting_a_program_in_use_is_a_conflict(admin_user, membership_a):
    r = client_for(admin_user).delete(f"{API}/programs/{membership_a.program_id}/")
    assert r.status_code == 409


def test_manager_sees_and_adjusts_only_their_customers(
    manager_a, manager_b, membership_a, program, customer_b
):
    other = MembershipFactory(program=program, customer=customer_b)
    api = client_for(manager_a)
    ids = [m["id"] for m in api.get(f"{API}/memberships/").json()["results"]]
    assert ids == [membership_a.pk]
    assert api.get(f"{API}/memberships/{other.pk}/").status_code == 404
    assert (
        api.post(
            f"{API}/memberships/{other.pk}/adjust/", {"points": 5, "reason": "x"}, format="json"
        ).status_code
        == 404
    )
    r = api.post(
        f"{API}/memberships/{membership_a.pk}/adjust/",
        {"points": 25, "reason": "Apology"},
        format="json",
    )
    assert r.status_code == 201
    assert r.json()["points"] == 25
    r = api.post(f"{API}/memberships/{membership_a.pk}/adjust/", {"points": 5}, format="json")
    assert r.status_code == 400
    r = api.post(
        f"{API}/memberships/{membership_a.pk}/adjust/",
        {"points": -500, "reason": "Too far"},
        format="json",
    )
    assert r.status_code == 409
    ledger = api.get(f"{API}/memberships/{membership_a.pk}/ledger/").json()["results"]
    assert [e["points"] for e in ledger] == [25]
    assert client_for(manager_b).get(f"{API}/ledger/").json()["results"] == []


def test_customer_sees_only_own_and_redeems(customer_user, funded, program, customer_b):
    customer = funded.customer
    customer.user = customer_user
    customer.save()
    other = MembershipFactory(program=program, customer=customer_b)
    reward = RewardFactory(program=program, cost=300)
    api = client_for(customer_user)
    assert [m["id"] for m in api.get(f"{API}/memberships/").json()["results"]] == [funded.pk]
    assert api.get(f"{API}/memberships/{other.pk}/").status_code == 404
    catalogue = api.get(f"{API}/memberships/{funded.pk}/rewards/").json()["results"]
    assert catalogue[0]["can_redeem"] is True
    r = api.post(
        f"{API}/memberships/{funded.pk}/redeem/",
        {"reward": reward.pk, "idempotency_key": "a"},
        format="json",
    )
    assert r.status_code == 201
    again = api.post(
        f"{API}/memberships/{funded.pk}/redeem/",
        {"reward": reward.pk, "idempotency_key": "a"},
        format="json",
    )
    assert again.json()["code"] == r.json()["code"]
    assert (
        api.post(
            f"{API}/memberships/{funded.pk}/adjust/", {"points": 5, "reason": "me"}, format="json"
        ).status_code
        == 403
    )
    assert [x["id"] for x in api.get(f"{API}/redemptions/").json()["results"]] == [r.json()["id"]]
    cancel = api.post(f"{API}/redemptions/{r.json()['id']}/cancel/", {}, format="json")
    assert cancel.json()["status"] == "cancelled"
    assert (
        api.post(f"{API}/redemptions/{r.json()['id']}/cancel/", {}, format="json").status_code
        == 409
    )
    assert api.get(f"{API}/programs/").status_code == 403


def test_bad_redeem_requests_are_clear(manager_a, funded, program):
    api = client_for(manager_a)
    url = f"{API}/memberships/{funded.pk}/redeem/"
    assert (
        api.post(url, {"reward": "abc", "idempotency_key": "k"}, format="json").status_code == 400
    )
    assert (
        api.post(url, {"reward": 999999, "idempotency_key": "k"}, format="json").status_code == 404
    )
    assert (
        api.post(url, {"reward": RewardFactory(program=program).pk}, format="json").status_code
        == 400
    )
    pricey = RewardFactory(program=program, cost=5000)
    r = api.post(url, {"reward": pricey.pk, "idempotency_key": "k"}, format="json")
    assert r.status_code == 409
    assert "Not enough stars" in r.json()["detail"]
    assert not Redemption.objects.exists()


def test_staff_fires_events_and_reverses_refunds(manager_a, membership_a, program, customer_a):
    program.rules.create(name="Review", kind="event", priority=1, event_code="review", points=40)
    api = client_for(manager_a)
    body = {"customer": customer_a.pk, "event_code": "review", "idempotency_key": "rev-9"}
    assert api.post(f"{API}/events/", body, format="json").status_code == 201
    assert api.post(f"{API}/events/", body, format="json").json() == []
    assert (
        api.post(f"{API}/events/", {**body, "event_code": "bad code"}, format="json").status_code
        == 400
    )
    membership_a.refresh_from_db()
    assert membership_a.balance == 40
    purchase = PurchaseFactory(customer=customer_a)
    r = api.post(f"{API}/purchase-reversals/", {"purchase": purchase.pk}, format="json")
    assert r.status_code == 201
    other = PurchaseFactory(customer=CustomerFactory())
    assert (
        api.post(f"{API}/purchase-reversals/", {"purchase": other.pk}, format="json").status_code
        == 404
    )


def test_join_by_staff_and_by_the_customer(
    manager_a, customer_user, customer_a, program, admin_user
):
    api = client_for(manager_a)
    r = api.post(
        f"{API}/memberships/", {"program": program.pk, "customer": customer_a.pk}, format="json"
    )
    assert r.status_code == 201
    assert (
        api.post(
            f"{API}/memberships/", {"program": program.pk, "customer": customer_a.pk}, format="json"
        ).status_code
        == 409
    )
    mine = CustomerFactory(user=customer_user)
    r = client_for(customer_user).post(
        f"{API}/memberships/", {"program": program.pk, "customer": mine.pk}, format="json"
    )
    assert r.status_code == 201
    assert Membership.objects.get(customer=mine).join_source == "self"


def test_offers_targeting_and_limits(admin_user, customer_user, program):
    from loyalty.models import Offer

    mine = CustomerFactory(user=customer_user)
    PurchaseFactory(customer=mine, category="printers")
    api = client_for(admin_user)
    r = api.post(
        f"{API}/offers/",
        {
            "name": "Ink for printer owners",
            "coupon_code": "INK10",
            "bought_category": "printers",
            "not_bought_category": "ink",
            "usage_limit": 1,
        },
        format="json",
    )
    assert r.status_code == 201
    bad = api.post(
        f"{API}/offers/",
        {
            "name": "Nonsense",
            "coupon_code": "X",
            "bought_category": "ink",
            "not_bought_category": "Ink",
        },
        format="json",
    )
    assert bad.status_code == 400
    Offer.objects.create(name="Ink owners only", coupon_code="OTHER", bought_category="ink")
    me = client_for(customer_user)
    offers = me.get(f"{API}/offers/").json()["results"]
    assert [o["coupon_code"] for o in offers] == ["INK10"]
    used = me.post(f"{API}/offers/{offers[0]['id']}/redeem/", {}, format="json")
    assert used.status_code == 201
    assert me.post(f"{API}/offers/{offers[0]['id']}/redeem/", {}, format="json").status_code == 404
    assert (
        me.post(f"{API}/offers/", {"name": "x", "coupon_code": "Y"}, format="json").status_code
        == 403
    )


def test_anonymous_is_refused(db):
    assert APIClient().get(f"{API}/memberships/").status_code == 401
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize(
    "payload", [{"points": "lots", "reason": "x"}, {"points": 10**12, "reason": "x"}, {}]
)
def test_adjust_rejects_garbage(manager_a, membership_a, payload):
    r = client_for(manager_a).post(
        f"{API}/memberships/{membership_a.pk}/adjust/", payload, format="json"
    )
    assert r.status_code == 400
