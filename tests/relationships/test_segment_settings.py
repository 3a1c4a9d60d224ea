"""Segments and their relationship strategies in the app: a page per segment with its
strategy, customers, value and retention figures; admins create and edit them (one
transaction, a recorded change, a note that the next night is full), managers read."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Customer
from relationships import nightly
from relationships.models import (
    CustomerMetrics,
    CutKind,
    PeriodKind,
    RelationshipStrategy,
    RetentionSnapshot,
    StrategyChange,
)
from relationships.selectors import RELATIONSHIP_TYPE_HELP
from tests.factories import (
    CustomerFactory,
    PurchaseFactory,
    RelationshipStrategyFactory,
    SegmentFactory,
)

FORM = {
    "name": "Key accounts",
    "description": "Our largest clients",
    "inactivity_days": "365",
    "relationship_types": ["long_term", "dedicated_assistance"],
    "goal": "retain",
    "rhythm": "marriage",
    "expected_gap_days": "30",
    "cost_to_serve_per_year": "1200.00",
    "currency": "EUR",
    "switching_costs": "Integrated ordering system",
    "notes": "",
}


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def key_accounts(manager_a, manager_b):
    segment = SegmentFactory(name="Key accounts")
    RelationshipStrategyFactory(segment=segment, cost_to_serve_per_year=Decimal("1200.00"))
    mine = [CustomerFactory(segment=segment, account_manager=manager_a) for _ in range(2)]
    theirs = [CustomerFactory(segment=segment, account_manager=manager_b) for _ in range(3)]
    today = timezone.localdate()
    for k, c in enumerate(mine + theirs):
        CustomerMetrics.objects.create(
            customer=c, computed_for=today, revenue=Decimal("1000"), clv_12m=Decimal(1500 + k)
        )
    run = today
    for months_back, rate in ((2, 0.8), (1, 0.9)):
        start = (today.replace(day=1) - dt.timedelta(days=31 * months_back)).replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        RetentionSnapshot.objects.create(
            run_date=run,
            period_kind=PeriodKind.MONTH,
            period_start=start,
            period_end=end,
            cut_kind=CutKind.SEGMENT,
            cut_key=str(segment.pk),
            cut_label=segment.name,
            at_start=1000,
            retained=int(1000 * rate),
            retention_rate=rate,
        )
    return segment


# --- reading ----------------------------------------------------------------------------


def test_admins_see_every_customer_value_and_retention(client, admin_user, key_accounts):
    client.force_login(admin_user)
    html = client.get(reverse("segment-list")).content.decode()
    assert "Key accounts" in html
    assert "90%" in html  # the last complete month
    assert "6,000 EUR" in html  # 1,200 a customer x 5 active customers
    page = client.get(reverse("segment-detail", args=[key_accounts.pk]))
    html = page.content.decode()
    assert page.context["row"].customers == 5
    assert "7,510" in html  # CLV summed with thousands separators
    assert "900 of 1,000" in html
    assert '<svg class="chart"' in html
    assert "a purchase every 30 days (about a month)" in html
    assert "365 days (about a year)" in html


def test_managers_read_the_segment_pages_for_their_own_book_without_retention(
    client, manager_a, key_accounts
):
    client.force_login(manager_a)
    listing = client.get(reverse("segment-list"))
    assert listing.status_code == 200
    assert "Kept last month" not in listing.content.decode()
    page = client.get(reverse("segment-detail", args=[key_accounts.pk]))
    assert page.status_code == 200
    assert page.context["row"].customers == 2
    html = page.content.decode()
    assert "Retention per month" not in html
    assert "Edit segment" not in html
    assert client.get(reverse("segment-edit", args=[key_accounts.pk])).status_code == 403
    assert client.post(reverse("segment-create"), FORM).status_code == 403
    assert client.get(reverse("segment-detail", args=[99999])).status_code == 404


def test_customers_may_not_read_segment_pages(client, customer_user, key_accounts):
    client.force_login(customer_user)
    assert client.get(reverse("segment-list")).status_code == 403
    assert client.get(reverse("segment-detail", args=[key_accounts.pk])).status_code == 403


def test_the_form_explains_each_relationship_type_in_one_line(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("segment-create")).content.decode()
    assert len(RELATIONSHIP_TYPE_HELP) == 8
    for line in RELATIONSHIP_TYPE_HELP.values():
        assert str(line).replace("'", "&#x27;") in html
    assert "Saving starts a full night" in html


# --- writing ----------------------------------------------------------------------------


def test_an_admin_creates_a_segment_with_its_strategy_in_one_step(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("segment-create"), FORM, follow=True)
    assert response.status_code == 200
    strategy = RelationshipStrategy.objects.get(segment__name="Key accounts")
    assert strategy.relationship_types == ["long_term", "dedicated_assistance"]
    assert strategy.switching_costs == "Integrated ordering system"
    change = StrategyChange.objects.get(segment=strategy.segment)
    assert change.before == {}
    assert change.after["cost_to_serve_per_year"] == "1200.00"
    assert change.changed_by == admin_user
    assert change.full_night
    assert "The next nightly run will be a full one" in response.content.decode()


def test_editing_a_strategy_says_the_next_night_is_full_and_records_before_and_after(
    client, admin_user, key_accounts
):
    client.force_login(admin_user)
    url = reverse("segment-edit", args=[key_accounts.pk])
    form = client.get(url).context["form"]
    assert form.initial["expected_gap_days"] == 30
    response = client.post(url, {**FORM, "expected_gap_days": "45"}, follow=True)
    html = response.content.decode()
    assert "The next nightly run will be a full one" in html
    assert "retention figures of every period and cut" in html
    change = StrategyChange.objects.get(segment=key_accounts)
    assert change.before["expected_gap_days"] == 30
    assert change.after["expected_gap_days"] == 45
    assert "expected_gap_days" in change.changed_fields
    assert change.full_night


def test_changing_only_the_goal_keeps_the_next_night_incremental(client, admin_user, key_accounts):
    client.force_login(admin_user)
    url = reverse("segment-edit", args=[key_accounts.pk])
    strategy = key_accounts.strategy
    data = {
        **FORM,
        "relationship_types": strategy.relationship_types,
        "cost_to_serve_per_year": str(strategy.cost_to_serve_per_year),
        "switching_costs": "",
        "description": key_accounts.description,
        "goal": "boost_sales",
    }
    response = client.post(url, data, follow=True)
    assert "may stay incremental" in response.content.decode()
    change = StrategyChange.objects.get(segment=key_accounts)
    assert change.changed_fields == ["goal"]
    assert not change.full_night


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"relationship_types": []}, "relationship_types"),
        ({"relationship_types": ["marriage"]}, "relationship_types"),
        ({"expected_gap_days": ""}, "expected_gap_days"),
        ({"inactivity_days": "0"}, "inactivity_days"),
        ({"inactivity_days": "99999999999999999999"}, "inactivity_days"),
        ({"goal": "world_domination"}, "goal"),
        ({"cost_to_serve_per_year": "-1"}, "cost_to_serve_per_year"),
        ({"cost_to_serve_per_year": "1e400"}, "cost_to_serve_per_year"),
        ({"currency": "E1R"}, "currency"),
        ({"name": "key ACCOUNTS"}, "name"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_input_is_a_form_error_naming_the_field(
    client, admin_user, key_accounts, change, field
):
    other = SegmentFactory(name="Other")
    client.force_login(admin_user)
    data = {**FORM, "name": "Other", **change}
    response = client.post(reverse("segment-edit", args=[other.pk]), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not StrategyChange.objects.exists()


# --- the API ----------------------------------------------------------------------------


def test_the_api_changes_a_strategy_records_it_and_says_the_night_is_full(
    admin_user, manager_a, key_accounts
):
    strategy = key_accounts.strategy
    url = f"/api/v1/relationship-strategies/{strategy.pk}/"
    assert api_for(manager_a).get(url).status_code == 200
    assert api_for(manager_a).patch(url, {"rhythm": "fling"}, format="json").status_code == 403
    answer = api_for(admin_user).patch(
        url, {"rhythm": "fling", "switching_costs": "Contract"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["full_night"] is True
    assert body["switching_costs"] == "Contract"
    assert body["full_night_recomputes"]
    assert StrategyChange.objects.get(segment=key_accounts).after["rhythm"] == "fling"
    bad = api_for(admin_user).patch(url, {"relationship_types": []}, format="json")
    assert bad.status_code == 400
    assert "relationship_types" in bad.json()


def test_the_segment_overview_api_scopes_figures_like_the_pages(
    admin_user, manager_a, customer_user, key_accounts
):
    mine = api_for(manager_a).get("/api/v1/segment-overviews/").json()
    assert mine[0]["customers"] == 2
    assert mine[0]["retention_last_month"] is None
    everyone = api_for(admin_user).get(f"/api/v1/segment-overviews/{key_accounts.pk}/").json()
    assert everyone["customers"] == 5
    assert everyone["retention_last_month"]["retention_rate"] == 0.9
    assert everyone["strategy"]["goal"] == "retain"
    assert api_for(customer_user).get("/api/v1/segment-overviews/").status_code == 403
    assert api_for(admin_user).get("/api/v1/segment-overviews/abc/").status_code == 404


# --- the nightly ------------------------------------------------------------------------


@pytest.mark.postgres(reason="incremental nights need PostgreSQL")
def test_a_strategy_edit_through_the_page_makes_the_next_night_full(
    client, admin_user, manager_a, settings
):
    settings.CRM_NIGHTLY_ID_MARGIN = 0
    settings.CRM_INCREMENTAL_MAX_SHARE = 0.5
    first = dt.date(2026, 6, 2)
    segment = SegmentFactory(name="Key accounts")
    RelationshipStrategyFactory(segment=segment, expected_gap_days=30)
    # Monthly buyers, enough for the night to fit its purchase models.
    for k in range(16):
        c = CustomerFactory(segment=segment, account_manager=manager_a)
        last = first - dt.timedelta(days=10 + 5 * k)
        for m in range(8):
            moment = dt.datetime.combine(last - dt.timedelta(days=30 * m), dt.time(12))
            PurchaseFactory(customer=c, occurred_at=timezone.make_aware(moment))
    nightly.nightly_run(run_date=first, mode="full")
    long_ago = timezone.make_aware(dt.datetime.combine(first - dt.timedelta(days=30), dt.time(12)))
    Customer.objects.update(updated_at=long_ago)
    # Without a change the next night is incremental ...
    quiet = nightly.nightly_run(run_date=first + dt.timedelta(days=1))
    assert quiet.mode == "incremental", quiet.mode_reason
    client.force_login(admin_user)
    client.post(reverse("segment-edit", args=[segment.pk]), {**FORM, "expected_gap_days": "60"})
    assert StrategyChange.objects.get(segment=segment).full_night
    # ... with one, it is full, and says why.
    run = nightly.nightly_run(run_date=first + dt.timedelta(days=2))
    assert run.mode == "full"
    assert "strategies or thresholds changed" in run.mode_reason


def test_the_segment_page_lists_its_changes_in_words_for_admins(client, admin_user, key_accounts):
    client.force_login(admin_user)
    client.post(
        reverse("segment-edit", args=[key_accounts.pk]),
        {**FORM, "expected_gap_days": "45", "switching_costs": "Contract"},
    )
    html = client.get(reverse("segment-detail", args=[key_accounts.pk])).content.decode()
    assert "changed the description, relationship types, expected gap, switching costs" in html
    assert "next night full" in html
