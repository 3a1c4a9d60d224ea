"""The builder's preview: a customer's last twelve months replayed under the program's
rules, against a hand-worked example, on the page and in the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.models import Program
from loyalty.preview import customer_year_preview
from tests.factories import (
    CustomerFactory,
    EarningRuleFactory,
    PurchaseFactory,
    TierFactory,
)

NOW = timezone.now()


@pytest.fixture
def club(db):
    program = Program.objects.create(
        name="Club",
        points_name="stars",
        points_per_unit=Decimal(1),
        starts_on=timezone.localdate() - dt.timedelta(days=3650),
        join_on_first_purchase=False,  # the ledger stays empty: only the replay earns
    )
    TierFactory(program=program, name="Member", threshold=Decimal(0))
    TierFactory(program=program, name="Silver", threshold=Decimal(100), multiplier=Decimal(2))
    EarningRuleFactory(
        program=program,
        name="Coffee week",
        kind="multiplier",
        multiplier=Decimal("1.5"),
        category="Coffee",
        priority=5,
    )
    return program


@pytest.fixture
def carla(club, manager_a):
    customer = CustomerFactory(name="Carla Co", account_manager=manager_a)
    for days, amount, category, currency in (
        (400, "1000.00", "tools", "EUR"),  # more than a year ago: not replayed
        (100, "60.00", "tools", "EUR"),  # Member x1: 60
        (80, "50.00", "tools", "EUR"),  # x1: 50, then 110 in the window: Silver
        (50, "30.00", "tools", "EUR"),  # Silver x2: 60
        (30, "99.00", "tools", "USD"),  # another currency: nothing
        (20, "10.00", "coffee", "EUR"),  # Silver x2, coffee x1.5: 30
    ):
        PurchaseFactory(
            customer=customer,
            amount=Decimal(amount),
            category=category,
            currency=currency,
            occurred_at=NOW - dt.timedelta(days=days),
        )
    return customer


def test_the_replay_matches_the_hand_worked_year(club, carla):
    preview = customer_year_preview(program=club, customer=carla)
    result = preview["result"]
    assert result.points == 60 + 50 + 60 + 30
    assert result.tier.name == "Silver"
    assert [name for _, name in result.upgrades] == ["Silver"]
    assert result.upgrades[0][0] == timezone.localdate(NOW - dt.timedelta(days=80))
    assert result.purchases == 4
    assert result.skipped_currency == 1
    assert sum(points for _, points in preview["months"]) == 200


def test_a_daily_cap_holds_in_the_replay(club, manager_a):
    EarningRuleFactory(program=club, name="Base", kind="per_money", cap_per_day=25, priority=1)
    customer = CustomerFactory(account_manager=manager_a)
    day = NOW - dt.timedelta(days=5)
    PurchaseFactory(customer=customer, amount=Decimal("20.00"), occurred_at=day)
    PurchaseFactory(customer=customer, amount=Decimal("20.00"), occurred_at=day)
    assert customer_year_preview(program=club, customer=customer)["result"].points == 25


def test_the_preview_page_says_it_in_words(client, admin_user, club, carla):
    client.force_login(admin_user)
    url = reverse("loyalty-program-preview", args=[club.pk])
    page = client.get(url, {"customer": carla.pk}).content.decode()
    assert "12 months would have earned" in page
    assert '<strong class="big">200</strong> stars' in page
    assert "the tier <strong>Silver</strong>" in page
    # an unknown customer or a bad number: said on the field
    missing = client.get(url, {"customer": 999999})
    assert missing.status_code == 404
    assert "No customer has this number." in missing.content.decode()
    assert client.get(url, {"customer": "abc"}).status_code == 400


def test_the_preview_in_the_api(client, admin_user, manager_a, club, carla):
    client.force_login(admin_user)
    url = f"/api/v1/loyalty/program-previews/{club.pk}/"
    body = client.get(url, {"customer": carla.pk}).json()
    assert body["points"] == 200
    assert body["tier"] == "Silver"
    assert body["skipped_currency"] == 1
    assert client.get(url, {"customer": "x"}).status_code == 400
    assert client.get(url, {"customer": 999999}).status_code == 404
    client.force_login(manager_a)
    assert client.get(url, {"customer": carla.pk}).status_code == 403
