"""A customer sees only their own: every portal page and every API endpoint a customer can
call. X's pages show X's data and nothing of Y's; Y's ids in a URL or a request body are a
404 that reveals nothing and changes nothing; a customer cannot reach staff pages or
endpoints. A portal URL added without a row here fails `test_every_portal_url_is_covered`."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from rest_framework.authtoken.models import Token

from customers.models import Customer
from loyalty.models import Membership, OfferGrant, Redemption, RedemptionStatus
from tests.portal.conftest import leaks

# Pages showing the customer's own data (no id in the URL, or the id of X's own row).
OWN_PAGES = {
    "home": lambda x: reverse("home"),
    "portal-profile": lambda x: reverse("portal-profile"),
    "portal-purchases": lambda x: reverse("portal-purchases"),
    "portal-loyalty": lambda x: reverse("portal-loyalty"),
    "portal-deletion": lambda x: reverse("portal-deletion"),
    "portal-export": lambda x: reverse("portal-export"),
    "portal-movements": lambda x: reverse("portal-movements", args=[x.membership.pk]),
    "portal-redemption": lambda x: reverse("portal-redemption", args=[x.redemption.pk]),
    "portal-reward-redeem": lambda x: reverse("portal-reward-redeem", args=[x.reward.pk]),
    "portal-support": lambda x: reverse("portal-support"),
    "portal-support-detail": lambda x: reverse(
        "portal-support-detail", args=[x.support_request.pk]
    ),
}
# URLs that take an id: with Y's id, X gets a 404.
OTHERS_IDS = {
    "portal-movements": ("get", lambda y: [y.membership.pk]),
    "portal-redemption": ("get", lambda y: [y.redemption.pk]),
    "portal-reward-redeem": ("get", lambda y: [y.reward.pk]),
    "portal-redemption-cancel": ("post", lambda y: [y.redemption.pk]),
    "portal-support-detail": ("get", lambda y: [y.support_request.pk]),
    "portal-support-reply": ("post", lambda y: [y.support_request.pk]),
    "portal-support-reopen": ("post", lambda y: [y.support_request.pk]),
    "portal-support-rate": ("post", lambda y: [y.support_request.pk]),
    "portal-support-attachment": (
        "get",
        lambda y: [y.support_request.pk, y.support_request.messages.get().pk],
    ),
}
# Writes without an id in the URL: they act on the customer of the request (tested below).
WRITES = {
    "portal-preferences",
    "portal-deletion-withdraw",
    "portal-loyalty-join",  # any program may be joined; the member is always the requester
}


def portal_url_names() -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns:
        for sub in getattr(pattern, "url_patterns", [pattern]):
            name = getattr(sub, "name", None)
            if name and name.startswith("portal-"):
                names.add(name)
    return names


def test_every_portal_url_is_covered():
    covered = set(OWN_PAGES) | set(OTHERS_IDS) | WRITES
    assert portal_url_names() - covered == set()
    # Redeeming posts too (tested below with Y's reward).
    assert "portal-reward-redeem" in OTHERS_IDS


def _client(side) -> Client:
    client = Client()
    client.force_login(side.user)
    return client


@pytest.mark.parametrize("name", sorted(OWN_PAGES))
def test_each_portal_page_shows_x_their_own_and_nothing_of_y(name, x, y):
    response = _client(x).get(OWN_PAGES[name](x))
    assert response.status_code == 200
    body = response.content.decode()
    assert leaks(body, y) == []
    if name in {"home", "portal-profile", "portal-export"}:
        assert x.customer.name in body


@pytest.mark.parametrize("name", sorted(OTHERS_IDS))
def test_ys_id_in_a_url_is_a_404_that_reveals_nothing(name, x, y):
    method, args = OTHERS_IDS[name]
    before = (Membership.objects.get(pk=y.membership.pk).balance, Redemption.objects.count())
    response = getattr(_client(x), method)(reverse(name, args=args(y)))
    assert response.status_code == 404
    assert leaks(response.content.decode(), y) == []
    after = (Membership.objects.get(pk=y.membership.pk).balance, Redemption.objects.count())
    assert after == before
    y.redemption.refresh_from_db()
    assert y.redemption.status == RedemptionStatus.ISSUED


def test_redeeming_ys_reward_is_a_404_and_moves_no_points(x, y):
    balances = dict(Membership.objects.values_list("pk", "balance"))
    response = _client(x).post(reverse("portal-reward-redeem", args=[y.reward.pk]), {"key": "abc"})
    assert response.status_code == 404
    assert dict(Membership.objects.values_list("pk", "balance")) == balances
    assert not Redemption.objects.filter(membership__customer=x.customer, reward=y.reward).exists()


def test_ids_in_a_posted_profile_change_only_the_requester(x, y):
    response = _client(x).post(
        reverse("portal-profile"),
        {
            "name": "Xavier X.",
            "email": "x2@example.com",
            "id": y.customer.pk,
            "customer": y.customer.pk,
            "user": y.user.pk,
        },
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=x.customer.pk).name == "Xavier X."
    assert Customer.objects.get(pk=y.customer.pk).name == "Yvonne Yarrow"
    assert Customer.objects.get(pk=x.customer.pk).user_id == x.user.pk


def test_ids_in_posted_preferences_change_only_the_requester(x, y):
    _client(x).post(reverse("portal-preferences"), {"newsletter": "on", "customer": y.customer.pk})
    assert Customer.objects.get(pk=x.customer.pk).newsletter_consent is True
    assert Customer.objects.get(pk=y.customer.pk).newsletter_consent is False


def test_withdrawing_touches_only_the_requesters_request(x, y):
    from customers.services import deletion_request_create

    theirs = deletion_request_create(actor=y.user, customer=y.customer)
    response = _client(x).post(reverse("portal-deletion-withdraw"), {"pk": theirs.pk})
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.status == "pending"


def test_joining_makes_the_requester_the_member(x, y, shared_program):
    from tests.factories import ProgramFactory

    other = ProgramFactory(name="Another club")
    _client(x).post(reverse("portal-loyalty-join", args=[other.pk]), {"customer": y.customer.pk})
    assert Membership.objects.filter(program=other, customer=x.customer).exists()
    assert not Membership.objects.filter(program=other, customer=y.customer).exists()


def test_staff_get_403_and_an_unlinked_login_404_on_portal_pages(client, manager_a, customer_user):
    client.force_login(manager_a)
    assert client.get(reverse("portal-profile")).status_code == 403
    client.force_login(customer_user)  # a customer login with no record
    assert client.get(reverse("portal-profile")).status_code == 404
    assert client.get(reverse("portal-export")).status_code == 404


@pytest.mark.parametrize(
    "name", ["customer-list", "follow-up-list", "at-risk", "analytics", "ladder", "plan-list"]
)
def test_a_customer_cannot_open_staff_pages(name, x):
    assert _client(x).get(reverse(name)).status_code == 403


def test_the_customer_detail_of_anyone_is_refused_to_a_customer(x, y):
    client = _client(x)
    for pk in (x.customer.pk, y.customer.pk):
        assert client.get(reverse("customer-detail", args=[pk])).status_code == 403


# ---------------------------------------------------------------- the API, with a token


def _api(side) -> Client:
    token, _ = Token.objects.get_or_create(user=side.user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


CUSTOMER_LISTS = [
    "api-loyalty-membership-list",
    "api-loyalty-ledger-list",
    "api-loyalty-redemption-list",
    "api-loyalty-offer-list",
    "api-loyalty-offer-grant-list",
    "api-community-notification-list",
    "api-my-support-request-list",
]


@pytest.mark.parametrize("name", CUSTOMER_LISTS)
def test_api_lists_give_a_customer_only_their_own(name, x, y):
    response = _api(x).get(reverse(name))
    assert response.status_code == 200
    assert leaks(response.content.decode(), y) == []


def test_api_lists_include_the_customers_own_rows(x, y):
    api = _api(x)
    memberships = api.get(reverse("api-loyalty-membership-list")).json()["results"]
    assert {m["customer"] for m in memberships} == {x.customer.pk}
    offers = api.get(reverse("api-loyalty-offer-list")).json()["results"]
    assert [o["coupon_code"] for o in offers] == ["XONLY"]
    assert offers[0]["handed_out_by"] == "Alice Anders"
    grants = api.get(reverse("api-loyalty-offer-grant-list")).json()["results"]
    assert [(g["customer"], g["coupon_code"]) for g in grants] == [(x.customer.pk, "XONLY")]


def _ys(y, kind):
    return {
        "membership": y.membership.pk,
        "ledger": y.membership.entries.first().pk,
        "redemption": y.redemption.pk,
        "offer": y.offer.pk,
        "grant": y.grant.pk,
        "support": y.support_request.pk,
    }[kind]


API_OTHERS_IDS = [
    ("get", "api-loyalty-membership-detail", "membership", None),
    ("get", "api-loyalty-membership-ledger", "membership", None),
    ("get", "api-loyalty-membership-rewards", "membership", None),
    ("post", "api-loyalty-membership-redeem", "membership", {"reward": 0, "idempotency_key": "k"}),
    ("post", "api-loyalty-membership-adjust", "membership", {"points": 5, "reason": "x"}),
    ("get", "api-loyalty-ledger-detail", "ledger", None),
    ("get", "api-loyalty-redemption-detail", "redemption", None),
    ("post", "api-loyalty-redemption-cancel", "redemption", {}),
    ("post", "api-loyalty-redemption-fulfil", "redemption", {}),
    ("get", "api-loyalty-offer-detail", "offer", None),
    ("post", "api-loyalty-offer-redeem", "offer", {}),
    ("get", "api-loyalty-offer-grant-detail", "grant", None),
    ("get", "api-my-support-request-detail", "support", None),
    ("post", "api-my-support-request-reply", "support", {"body": "hi"}),
    ("post", "api-my-support-request-reopen", "support", {}),
    ("post", "api-my-support-request-rate", "support", {"rating": 5}),
]


@pytest.mark.parametrize(("method", "name", "kind", "data"), API_OTHERS_IDS)
def test_api_ys_ids_in_the_url_are_404(method, name, kind, data, x, y):
    if data is not None and "reward" in data:
        data = {**data, "reward": y.reward.pk}
    state = (
        list(Membership.objects.order_by("pk").values_list("balance", flat=True)),
        list(Redemption.objects.order_by("pk").values_list("status", flat=True)),
    )
    call = getattr(_api(x), method)
    url = reverse(name, args=[_ys(y, kind)])
    response = (
        call(url) if data is None else call(url, json.dumps(data), content_type="application/json")
    )
    assert response.status_code == 404
    assert leaks(response.content.decode(), y) == []
    assert state == (
        list(Membership.objects.order_by("pk").values_list("balance", flat=True)),
        list(Redemption.objects.order_by("pk").values_list("status", flat=True)),
    )


def test_api_ys_ids_in_a_request_body_are_404(x, y, shared_program):
    api = _api(x)
    # Redeem, on X's own membership, a reward of Y's program.
    response = api.post(
        reverse("api-loyalty-membership-redeem", args=[x.membership.pk]),
        json.dumps({"reward": y.reward.pk, "idempotency_key": "body"}),
        content_type="application/json",
    )
    assert response.status_code == 404
    # Join a program as Y.
    from tests.factories import ProgramFactory

    other = ProgramFactory(name="Body club")
    response = api.post(
        reverse("api-loyalty-membership-list"),
        json.dumps({"program": other.pk, "customer": y.customer.pk}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Membership.objects.filter(program=other).exists()
    # Use an offer (X's own) for Y.
    response = api.post(
        reverse("api-loyalty-offer-redeem", args=[x.offer.pk]),
        json.dumps({"customer": y.customer.pk}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not y.customer.offer_redemptions.exists()
    assert leaks(response.content.decode(), y) == []


def test_a_customer_cannot_hand_out_or_count_offers(x, y):
    api = _api(x)
    give = api.post(
        reverse("api-loyalty-offer-give", args=[x.offer.pk]),
        json.dumps({"customer": x.customer.pk}),
        content_type="application/json",
    )
    assert give.status_code == 403
    assert api.get(reverse("api-loyalty-offer-stats", args=[x.offer.pk])).status_code == 403
    mine = api.get(reverse("api-loyalty-offer-for-customer"), {"customer": x.customer.pk})
    assert mine.status_code == 403
    assert OfferGrant.objects.count() == 2  # the two the managers handed out


STAFF_ENDPOINTS = [
    "api-root",
    "api-customer-list",
    "api-purchase-list",
    "api-interaction-list",
    "api-risk-flag-list",
    "api-customer-metrics-list",
    "api-loyalty-program-list",
    "api-loyalty-reward-list",
    "api-community-queue-list",
    "api-support-request-list",
]


@pytest.mark.parametrize("name", STAFF_ENDPOINTS)
def test_a_customer_token_cannot_reach_staff_endpoints(name, x):
    assert _api(x).get(reverse(name)).status_code == 403


def test_a_customer_token_cannot_read_their_own_staff_record(x):
    api = _api(x)
    assert api.get(reverse("api-customer-detail", args=[x.customer.pk])).status_code == 403
    response = api.patch(
        reverse("api-customer-detail", args=[x.customer.pk]),
        json.dumps({"stage": "partner"}),
        content_type="application/json",
    )
    assert response.status_code == 403
