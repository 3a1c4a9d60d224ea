"""A book the size of a real one (over 1,000 customers, a million points) reads with
thousands separators on the main pages, and a program's earning rate takes the singular
or plural of its points name ("1 star per EUR", "2 stars per EUR")."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from loyalty.models import Reward
from tests.factories import MembershipFactory, ProgramFactory, UserFactory

BOOK = 1234


@pytest.fixture
def big_book(manager_a):
    Customer.objects.bulk_create(
        Customer(name=f"Customer {i:04d}", account_manager=manager_a) for i in range(BOOK)
    )
    one = ProgramFactory(
        name="Stars Club",
        points_name="stars",
        points_per_unit=Decimal("1.0000"),
        expiry_policy="months",
        expiry_months=24,
        qualification_days=1,
    )
    ProgramFactory(name="Double Stars", points_name="stars", points_per_unit=Decimal("2"))
    user = UserFactory(username="rich", role="customer")
    rich = Customer.objects.order_by("pk").first()
    rich.user = user
    rich.save(update_fields=["user"])
    MembershipFactory(program=one, customer=rich, balance=1234567)
    Reward.objects.create(program=one, name="Tote bag", cost=1, stock=2500)
    Reward.objects.create(program=one, name="Moon trip", cost=1234568)
    Reward.objects.create(program=one, name="Mars trip", cost=2234567)
    return {"manager": manager_a, "program": one, "customer_user": user}


def _page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_customer_counts_carry_separators(client, admin_user, big_book):
    html = _page(client, admin_user, reverse("customer-list") + "?count=1")
    assert "1,234" in html
    assert "1234 " not in html


def test_a_managers_book_size_carries_separators(client, admin_user, big_book):
    html = _page(client, admin_user, reverse("staff-list"))
    assert "1,234 customers" in html


def test_the_ladder_counts_carry_separators(client, admin_user, big_book):
    html = _page(client, admin_user, reverse("ladder"))
    assert ">1,234<" in html


def test_the_program_page_reads_rates_and_durations_in_words(client, admin_user, big_book):
    html = _page(client, admin_user, reverse("loyalty-program", args=[big_book["program"].pk]))
    assert "1 star per EUR" in html
    assert "24 months after earning" in html
    assert "over 1 day" in html
    assert "1,234,567" in html  # the points liability
    assert re.search(r"<td>Tote bag</td><td>1 star</td><td>2,500</td>", html)


def test_the_program_list_says_star_or_stars(client, admin_user, big_book):
    html = _page(client, admin_user, reverse("loyalty-program-list"))
    assert "1 star per EUR" in html
    assert "2 stars per EUR" in html


def test_the_portal_balance_carries_separators(client, big_book):
    html = _page(client, big_book["customer_user"], reverse("portal-loyalty"))
    assert "1,234,567" in html
    assert "1 star</span>" in html  # the tote bag's cost
    assert "Collect stars on every purchase: 2 stars per EUR." in html
    assert "1 more star needed" in html  # the moon trip
    assert "1,000,000 more stars needed" in html  # the Mars trip
