"""The analytics API: scoped reads, admin-only runs, strategies and defections via services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from relationships.models import RelationshipStrategy
from relationships.nightly import nightly_run
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory

RUN = dt.date(2026, 6, 1)
AS_OF = timezone.make_aware(dt.datetime(2026, 6, 1))


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def scored(manager_a, manager_b):
    segment = SegmentFactory(name="Subscribers")
    RelationshipStrategy.objects.create(
        segment=segment, relationship_types=["long_term"], goal="retain", expected_gap_days=30
    )
    alpha = CustomerFactory(name="Alpha", segment=segment, account_manager=manager_a)
    bravo = CustomerFactory(name="Bravo", segment=segment, account_manager=manager_b)
    for customer in (alpha, bravo):
        for k in range(12):
            PurchaseFactory(
                customer=customer,
                amount=Decimal("200"),
                occurred_at=AS_OF - dt.timedelta(days=200 + 30 * k),
            )
    for name in ("Steady One", "Steady Two"):
        steady = CustomerFactory(name=name, segment=segment)
        for k in range(12):
            PurchaseFactory(customer=steady, occurred_at=AS_OF - dt.timedelta(days=5 + 30 * k))
    nightly_run(run_date=RUN)
    return {"alpha": alpha, "bravo": bravo, "segment": segment}


def test_flags_and_metrics_are_scoped_to_the_managers_book(scored, manager_a):
    flags = api(manager_a).get("/api/v1/risk-flags/?open=true").json()["results"]
    assert [f["customer_name"] for f in flags] == ["Alpha"]
    metrics = api(manager_a).get("/api/v1/customer-metrics/").json()["results"]
    assert [m["customer"] for m in metrics] == [scored["alpha"].pk]
    other = api(manager_a).get(f"/api/v1/risk-flags/{scored['bravo'].risk_flags.get().pk}/")
    assert other.status_code == 404


def test_bad_open_filter_is_a_400(scored, manager_a):
    response = api(manager_a).get("/api/v1/risk-flags/?open=maybe")
    assert response.status_code == 400
    assert "open" in response.json()


def test_retention_snapshots_admin_all_manager_own_cut(scored, admin_user, manager_a):
    everything = api(admin_user).get("/api/v1/retention-snapshots/?page_size=500").json()["results"]
    assert {s["cut_kind"] for s in everything} >= {"all", "segment", "account_manager"}
    own = api(manager_a).get("/api/v1/retention-snapshots/?page_size=500").json()["results"]
    assert own
    assert {(s["cut_kind"], s["cut_key"]) for s in own} == {("account_manager", str(manager_a.pk))}


def test_nightly_runs_are_for_admins(scored, admin_user, manager_a):
    assert api(manager_a).get("/api/v1/nightly-runs/").status_code == 403
    runs = api(admin_user).get("/api/v1/nightly-runs/").json()["results"]
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["mode"] == "full"
    assert runs[0]["mode_reason"]  # why not incremental: the first night, or SQLite
    fits = api(manager_a).get("/api/v1/model-fits/").json()["results"]
    assert fits[0]["holdout_days"] == 90
    # Four customers buying like clockwork identify no model: the fit says it fell back
    # to a small penalty instead of storing overflowing numbers.
    assert fits[0]["penalizer"] == 0.001
    assert "without a penalty" in fits[0]["note"]
    assert fits[0]["bgnbd_converged"] is True
    assert fits[0]["bgnbd_log_likelihood"] < 0


def test_strategies_admin_writes_staff_reads(scored, admin_user, manager_a):
    other = SegmentFactory(name="Walk-ins")
    body = {
        "segment": other.pk,
        "relationship_types": ["transactional", "self_service"],
        "goal": "acquire",
        "rhythm": "fling",
    }
    assert (
        api(manager_a).post("/api/v1/relationship-strategies/", body, format="json").status_code
        == 403
    )
    created = api(admin_user).post("/api/v1/relationship-strategies/", body, format="json")
    assert created.status_code == 201
    assert created.json()["relationship_types"] == ["transactional", "self_service"]
    again = api(admin_user).post("/api/v1/relationship-strategies/", body, format="json")
    assert again.status_code == 409
    listed = api(manager_a).get("/api/v1/relationship-strategies/").json()["results"]
    assert {s["segment_name"] for s in listed} == {"Subscribers", "Walk-ins"}
    strategy = scored["segment"].strategy
    changed = api(admin_user).patch(
        f"/api/v1/relationship-strategies/{strategy.pk}/", {"expected_gap_days": 45}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["expected_gap_days"] == 45


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"relationship_types": ["telepathy"], "goal": "retain", "expected_gap_days": 30},
            "relationship_types",
        ),
        ({"relationship_types": ["long_term"], "goal": "retain"}, "expected_gap_days"),
        (
            {"relationship_types": [], "goal": "retain", "expected_gap_days": 30},
            "relationship_types",
        ),
        (
            {"relationship_types": ["long_term"], "goal": "world peace", "expected_gap_days": 30},
            "goal",
        ),
    ],
)
def test_bad_strategy_is_a_400_naming_the_field(admin_user, body, field):
    segment = SegmentFactory(name="Fresh")
    response = api(admin_user).post(
        "/api/v1/relationship-strategies/", {"segment": segment.pk, **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_defection_recorded_for_own_customer_only(scored, manager_a):
    body = {
        "customer": scored["alpha"].pk,
        "reason": "competitor",
        "exit_interview_notes": "Went to Rival Ltd.",
    }
    created = api(manager_a).post("/api/v1/defections/", body, format="json")
    assert created.status_code == 201
    scored["alpha"].refresh_from_db()
    assert scored["alpha"].status == "defected"
    foreign = api(manager_a).post(
        "/api/v1/defections/", {**body, "customer": scored["bravo"].pk}, format="json"
    )
    assert foreign.status_code == 400
    assert "customer" in foreign.json()
    unknown = api(manager_a).post(
        "/api/v1/defections/", {**body, "reason": "aliens"}, format="json"
    )
    assert unknown.status_code == 400
    assert [d["reason"] for d in api(manager_a).get("/api/v1/defections/").json()["results"]] == [
        "competitor"
    ]


def test_customers_cannot_use_the_analytics_api(scored, customer_user):
    assert api(customer_user).get("/api/v1/risk-flags/").status_code == 403
