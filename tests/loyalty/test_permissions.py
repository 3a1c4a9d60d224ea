"""Who may reach each loyalty page and endpoint, on customer A's membership (A is managed by
manager_a and is the customer user's own record)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from loyalty.models import Redemption
from loyalty.services import points_redeem
from tests.factories import PASSWORD, RewardFactory

ROLES = ["anonymous", "customer", "manager_b", "manager_a", "admin"]


@pytest.fixture
def world(admin_user, manager_a, manager_b, customer_user, funded, program):
    customer = funded.customer
    customer.user = customer_user
    customer.save()
    reward = RewardFactory(program=program, cost=10)
    redemption = points_redeem(
        membership=funded, reward=reward, actor=manager_a, idempotency_key="w"
    )
    users = {
        "anonymous": None,
        "customer": customer_user,
        "manager_b": manager_b,
        "manager_a": manager_a,
        "admin": admin_user,
    }
    return {
        "users": users,
        "membership": funded,
        "program": program,
        "reward": reward,
        "redemption": redemption,
    }


PAGES = [
    # (url name, arg kind, method, expected per role in ROLES order)
    ("loyalty-program-list", None, "get", ["login", 403, 403, 403, 200]),
    ("loyalty-program", "program", "get", ["login", 403, 403, 403, 200]),
    ("loyalty-membership-adjust", "membership", "post", ["login", 403, 404, 302, 302]),
]


@pytest.mark.parametrize(("name", "kind", "method", "expected"), PAGES)
def test_pages(client, world, name, kind, method, expected):
    url = reverse(name, args=[world[kind].pk] if kind else [])
    for role, want in zip(ROLES, expected, strict=True):
        client.logout()
        if world["users"][role]:
            assert client.login(username=world["users"][role].username, password=PASSWORD)
        response = getattr(client, method)(
            url, {"points": "1", "reason": "matrix"} if method == "post" else None
        )
        if want == "login":
            assert response.status_code == 302, role
            assert response["Location"].startswith("/accounts/login/"), role
        else:
            assert response.status_code == want, (name, role, response.status_code)


API = [
    ("/api/v1/loyalty/programs/", "get", None, [401, 403, 200, 200, 200]),
    ("/api/v1/loyalty/programs/", "post", {}, [401, 403, 403, 403, 400]),
    ("/api/v1/loyalty/programs/{program}/", "patch", {}, [401, 403, 403, 403, 200]),
    ("/api/v1/loyalty/tiers/", "post", {}, [401, 403, 403, 403, 400]),
    ("/api/v1/loyalty/rules/", "get", None, [401, 403, 200, 200, 200]),
    ("/api/v1/loyalty/rewards/{reward}/", "patch", {}, [401, 403, 403, 403, 200]),
    ("/api/v1/loyalty/offers/", "get", None, [401, 200, 200, 200, 200]),
    ("/api/v1/loyalty/offers/", "post", {}, [401, 403, 403, 403, 400]),
    ("/api/v1/loyalty/memberships/", "get", None, [401, 200, 200, 200, 200]),
    ("/api/v1/loyalty/memberships/{membership}/", "get", None, [401, 200, 404, 200, 200]),
    ("/api/v1/loyalty/memberships/{membership}/ledger/", "get", None, [401, 200, 404, 200, 200]),
    ("/api/v1/loyalty/memberships/{membership}/rewards/", "get", None, [401, 200, 404, 200, 200]),
    (
        "/api/v1/loyalty/memberships/{membership}/adjust/",
        "post",
        {"points": 1, "reason": "m"},
        [401, 403, 404, 201, 201],
    ),
    ("/api/v1/loyalty/memberships/{membership}/redeem/", "post", {}, [401, 400, 404, 400, 400]),
    ("/api/v1/loyalty/ledger/", "get", None, [401, 200, 200, 200, 200]),
    ("/api/v1/loyalty/redemptions/{redemption}/", "get", None, [401, 200, 404, 200, 200]),
    ("/api/v1/loyalty/redemptions/{redemption}/fulfil/", "post", {}, [401, 403, 404, 200, 409]),
    ("/api/v1/loyalty/events/", "post", {}, [401, 403, 400, 400, 400]),
    ("/api/v1/loyalty/purchase-reversals/", "post", {}, [401, 403, 400, 400, 400]),
]


@pytest.mark.parametrize(("template", "method", "data", "expected"), API)
def test_api(world, template, method, data, expected):
    url = template.format(**{k: getattr(v, "pk", None) for k, v in world.items()})
    for role, want in zip(ROLES, expected, strict=True):
        api = APIClient()
        if world["users"][role]:
            api.force_authenticate(world["users"][role])
        response = (
            getattr(api, method)(url, data, format="json")
            if data is not None
            else getattr(api, method)(url)
        )
        if want == 401:
            assert response.status_code == 401, (template, role)
            assert response["WWW-Authenticate"] == "Token", (template, role)
        else:
            assert response.status_code == want, (
                template,
                method,
                role,
                response.status_code,
                response.content[:200],
            )
    assert Redemption.objects.count() == 1
