"""What the schema fuzzer (test_api_fuzz.py) found, kept as plain tests: the API answers as
its served schema says, a filter it does not know is refused, a caller without credentials
is told to authenticate, and every list says how many rows match."""

import functools

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from crm.api import CursorPagination
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    MembershipFactory,
    ProgramFactory,
    RewardFactory,
    RiskFlagFactory,
)


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@functools.cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def component(name: str) -> dict:
    return schema()["components"]["schemas"][name]


# --- Fields typed as they are answered ---------------------------------------------------


def test_a_customer_without_email_or_segment_reads_null_as_the_schema_says(manager_a):
    CustomerFactory(account_manager=None, email="", segment=None)  # unassigned, for the admin
    customer = CustomerFactory(account_manager=manager_a, email="", segment=None)
    body = client_for(manager_a).get(f"/api/v1/customers/{customer.pk}/").json()
    assert body["email"] is None  # "" is not an address: `format: email` refused it
    assert body["segment_name"] is None
    fields = component("Customer")["properties"]
    assert fields["email"]["nullable"] is True
    assert fields["segment_name"]["nullable"] is True


def test_an_unassigned_customer_reads_a_null_manager_as_the_schema_says(admin_user):
    customer = CustomerFactory(account_manager=None)
    body = client_for(admin_user).get(f"/api/v1/customers/{customer.pk}/").json()
    assert body["account_manager"] is None
    assert component("Customer")["properties"]["account_manager"]["nullable"] is True


def test_an_unclassified_interaction_reads_a_null_root_cause_as_the_schema_says(manager_a):
    interaction = InteractionFactory(customer=CustomerFactory(account_manager=manager_a))
    body = client_for(manager_a).get(f"/api/v1/interactions/{interaction.pk}/").json()
    assert body["root_cause"] is None
    assert body["root_cause_name"] is None
    fields = component("Interaction")["properties"]
    assert fields["root_cause"]["nullable"] is True
    assert fields["root_cause_name"]["nullable"] is True


def test_a_member_without_tier_reads_a_null_tier_name_as_the_schema_says(manager_a):
    membership = MembershipFactory(customer=CustomerFactory(account_manager=manager_a))
    body = client_for(manager_a).get(f"/api/v1/loyalty/memberships/{membership.pk}/").json()
    assert body["tier_name"] is None
    assert component("Membership")["properties"]["tier_name"]["nullable"] is True


# --- Lists: paged as documented, with a count ---------------------------------------------


def test_the_membership_rewards_list_is_paged_and_counted_as_documented(manager_a):
    program = ProgramFactory()
    membership = MembershipFactory(
        program=program, customer=CustomerFactory(account_manager=manager_a)
    )
    for _ in range(3):
        RewardFactory(program=program)
    url = f"/api/v1/loyalty/memberships/{membership.pk}/rewards/"
    first = client_for(manager_a).get(url, {"page_size": 2}).json()
    assert first["count"] == 3
    assert first["count_capped"] is False
    assert len(first["results"]) == 2
    assert first["next"]
    assert {"can_redeem", "reason"} <= set(first["results"][0])
    second = client_for(manager_a).get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    documented = schema()["paths"]["/api/v1/loyalty/memberships/{id}/rewards/"]["get"]
    ref = documented["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/PaginatedMemberRewardList")
    # The membership's own filters do not apply to its rewards: not documented, refused.
    names = {p["name"] for p in documented.get("parameters", []) if p["in"] == "query"}
    assert names == {"cursor", "page_size"}


def test_a_list_counts_its_rows_up_to_the_cap_and_says_when_it_stopped(
    admin_user, manager_a, monkeypatch
):
    for _ in range(4):
        CustomerFactory(account_manager=manager_a)
    api = client_for(admin_user)
    body = api.get("/api/v1/customers/", {"page_size": 2}).json()
    assert (body["count"], body["count_capped"]) == (4, False)
    assert api.get(body["next"]).json()["count"] == 4  # every page, not only the first
    monkeypatch.setattr(CursorPagination, "count_cap", 3)
    body = api.get("/api/v1/customers/", {"page_size": 2}).json()
    assert (body["count"], body["count_capped"]) == (3, True)
    paged = component("PaginatedCustomerList")
    assert {"count", "count_capped"} <= set(paged["required"])


def test_the_at_risk_queue_is_counted_like_every_list(manager_a):
    for _ in range(3):
        RiskFlagFactory(customer=CustomerFactory(account_manager=manager_a))
    api = client_for(manager_a)
    body = api.get("/api/v1/risk-flags/", {"open": "true", "page_size": 2}).json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (3, False, 2)
    assert api.get(body["next"]).json()["count"] == 3


# --- Query parameters the schema does not document ----------------------------------------


def test_an_unknown_filter_is_refused_naming_it_not_ignored(manager_a):
    mine = RiskFlagFactory(customer=CustomerFactory(account_manager=manager_a))
    RiskFlagFactory(customer=CustomerFactory(account_manager=manager_a))
    api = client_for(manager_a)
    response = api.get("/api/v1/risk-flags/", {"customer": mine.customer_id})
    assert response.status_code == 400  # it used to answer every flag
    body = response.json()
    assert body["customer"] == ["Unknown query parameter."]
    assert "customer" in body["detail"]
    assert "ordering" in body["detail"]
    # What the schema documents still works, `open` included (it was undocumented).
    assert api.get("/api/v1/risk-flags/", {"open": "true", "search": "x"}).status_code == 200
    assert api.get("/api/v1/risk-flags/", {"format": "json"}).status_code == 200


def test_unknown_parameters_are_refused_on_detail_and_action_endpoints_too(manager_a):
    customer = CustomerFactory(account_manager=manager_a)
    api = client_for(manager_a)
    assert api.get(f"/api/v1/customers/{customer.pk}/", {"fields": "id"}).status_code == 400
    response = api.post(f"/api/v1/customers/{customer.pk}/reassign/?dry_run=1", {}, format="json")
    assert response.status_code in (400, 403)  # a manager may not reassign at all
    membership = MembershipFactory(customer=customer)
    ledger = f"/api/v1/loyalty/memberships/{membership.pk}/ledger/"
    assert api.get(ledger, {"kind": "earn"}).status_code == 400
    assert api.get(ledger).status_code == 200


def test_parameters_another_app_registers_on_the_customer_list_are_documented(admin_user):
    # relationships adds ?retention=&period=&period_start=&cut= to the customer list at
    # start; the schema lists them, so they are taken, not refused as unknown.
    documented = schema()["paths"]["/api/v1/customers/"]["get"]["parameters"]
    names = {p["name"] for p in documented if p["in"] == "query"}
    assert {"retention", "period", "period_start", "cut"} <= names
    params = {"retention": "lost", "period": "week", "period_start": "2026-05-01"}
    response = client_for(admin_user).get("/api/v1/customers/", params)
    assert response.status_code == 400
    assert "Unknown period kind 'week'" in response.json()["period"][0]  # the app's own check


def test_the_check_runs_after_authentication(db):
    response = APIClient().get("/api/v1/risk-flags/", {"customer": 1})
    assert response.status_code == 401


# --- Authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/customers/", "/api/v1/risk-flags/", "/api/v1/loyalty/memberships/"]
)
def test_no_credentials_is_a_401_that_says_how_to_authenticate(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_a_401_and_a_session_still_works(manager_a):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api.get("/api/v1/customers/").status_code == 401
    browser = Client()
    browser.force_login(manager_a)
    assert browser.get("/api/v1/customers/").status_code == 200


# --- The schema documents every answer ---------------------------------------------------


def test_every_operation_documents_the_errors_it_can_answer():
    missing = []
    for path, operations in schema()["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            want = {"400", "401", "403", "404"}
            if method in ("post", "put", "patch", "delete"):
                want.add("409")
            if method in ("post", "put", "patch"):
                want.add("415")
            if path == "/api/v1/auth/token/":
                want.add("429")
            if not want <= codes:
                missing.append(f"{method.upper()} {path}: {sorted(want - codes)}")
    assert not missing, "\n".join(missing)


def test_a_body_in_a_type_the_api_does_not_read_is_a_documented_415(admin_user):
    # Found by FUZZ_EXAMPLES=25: any write can be sent a body the parsers refuse.
    response = client_for(admin_user).post(
        "/api/v1/community/bans/", b"ban them", content_type="text/plain"
    )
    assert response.status_code == 415
    assert "text/plain" in response.json()["detail"]
    documented = schema()["paths"]["/api/v1/community/bans/"]["post"]["responses"]
    assert "415" in documented


def test_a_path_no_route_matches_is_a_json_404_under_the_api(admin_user):
    response = client_for(admin_user).get("/api/v1/customers/1.5e-3/")  # no route matches
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_page_no_route_matches_is_still_the_html_404(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
