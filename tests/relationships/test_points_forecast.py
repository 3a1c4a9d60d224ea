"""The builder's book-wide forecast: expected points per month from stored figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships.models import CustomerMetrics
from relationships.selectors.points_forecast import expected_points_by_month
from tests.factories import CustomerFactory, MembershipFactory, ProgramFactory, TierFactory


@pytest.fixture
def book(db):
    program = ProgramFactory(name="Club", points_per_unit=Decimal(2))
    gold = TierFactory(
        program=program, name="Gold", threshold=Decimal(0), multiplier=Decimal("1.5")
    )
    today = timezone.localdate()
    a, b, c = (CustomerFactory() for _ in range(3))
    # a: 2 purchases expected in 30 days, 4 in 90, 13 in 365, mean spend 100, Gold x1.5
    CustomerMetrics.objects.create(
        customer=a, computed_for=today, revenue=Decimal("300"), purchase_count=3,
        expected_purchases_30d=2, expected_purchases_90d=4, expected_purchases_365d=13,
    )  # fmt: skip
    # b: no purchase yet (the members' mean, 100), no tier, 1 expected in 30 days
    CustomerMetrics.objects.create(
        customer=b, computed_for=today, revenue=Decimal(0), purchase_count=0,
        expected_purchases_30d=1, expected_purchases_90d=1, expected_purchases_365d=1,
    )  # fmt: skip
    MembershipFactory(program=program, customer=a, tier=gold, balance=500)
    MembershipFactory(program=program, customer=b, balance=100, pending_points=20)
    MembershipFactory(program=program, customer=c)  # no figures yet
    return program


def test_expected_points_against_a_hand_worked_book(book):
    forecast = expected_points_by_month(program=book, today=dt.date(2026, 12, 4))
    months = forecast["months"]
    # month 1: a 2 x 100 x 1.5 + b 1 x 100 x 1 = 400 spend-points, times 2 a EUR = 800
    assert months[0]["points"] == 800
    # months 2-3: a (4 - 2) / 2 x 150 = 150, b 0: 300 points each
    assert [m["points"] for m in months[1:3]] == [300, 300]
    # months 4-12: a (13 - 4) / 9 x 150 = 150: 300 points each
    assert {m["points"] for m in months[3:]} == {300}
    assert len(months) == 12
    # the liability adds up from today's 600 + 20 pending
    assert months[0]["liability"] == 620 + 800
    assert months[-1]["liability"] == 620 + 800 + 11 * 300
    assert (forecast["members"], forecast["with_figures"]) == (3, 2)


def test_the_forecast_on_the_preview_page_and_in_the_api(client, admin_user, manager_a, book):
    client.force_login(admin_user)
    page = client.get(reverse("loyalty-program-preview", args=[book.pk])).content.decode()
    assert "From last night's figures for 2 of 3 members" in page
    assert "800" in page
    body = client.get(f"/api/v1/loyalty/points-forecasts/{book.pk}/").json()
    assert body["months"][0]["points"] == 800
    client.force_login(manager_a)
    assert client.get(f"/api/v1/loyalty/points-forecasts/{book.pk}/").status_code == 403
