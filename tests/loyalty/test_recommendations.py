"""Categories bought together (the nightly affinity step) and the portal's "for you" block,
against a small book built by hand.

The book (13 customers who bought something in a category):
- C1..C6 buy Coffee and Tea; C7, C8 buy Coffee and Cake; C9 buys Soap and Cake;
  C10..C12 buy Soap; T (the customer we recommend to) buys Coffee.
- Customers per category: Coffee 9, Tea 6, Soap 4, Cake 3.
- Coffee & Tea: 6 customers, lift = 6 x 13 / (9 x 6) = 1.444 (related).
- Coffee & Cake: 2 customers, lift = 2 x 13 / (9 x 3) = 0.963 (no more than chance).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from loyalty.models import CategoryAffinity, CategoryReach
from loyalty.selectors import recommendations_for_customer
from loyalty.services import category_affinity_refresh, nightly_step_run
from tests.factories import CustomerFactory, PurchaseFactory, UserFactory


def _buys(*categories: str):
    customer = CustomerFactory()
    for category in categories:
        PurchaseFactory(customer=customer, category=category)
    return customer


@pytest.fixture
def book(db):
    for _ in range(6):
        _buys("Coffee", "Tea")
    for _ in range(2):
        _buys("coffee ", "Cake")  # case and spaces do not make a new category
    _buys("Soap", "Cake")
    for _ in range(3):
        _buys("Soap")
    _buys("")  # no category: not a buyer of anything
    user = UserFactory(username="tina", role="customer", first_name="Tina")
    target = CustomerFactory(user=user, name="Tina Target")
    PurchaseFactory(customer=target, category="Coffee")
    PurchaseFactory(customer=target, category="Coffee")  # twice: still one customer
    return target


def test_the_affinity_tables_hold_the_hand_computed_figures(book):
    kept = category_affinity_refresh(run_date=timezone.localdate(), min_customers=2)
    reach = dict(CategoryReach.objects.values_list("category", "customers"))
    assert reach == {"coffee": 9, "tea": 6, "soap": 4, "cake": 3}
    pairs = {
        (p.category, p.also_bought): (p.customers_both, round(p.lift, 3))
        for p in CategoryAffinity.objects.all()
    }
    assert pairs[("coffee", "tea")] == (6, 1.444)
    assert pairs[("tea", "coffee")] == (6, 1.444)
    assert pairs[("coffee", "cake")] == (2, 0.963)
    assert ("soap", "cake") not in pairs  # one customer only: below the minimum of 2
    assert kept == len(pairs) == 4


def test_small_groups_are_not_kept_with_the_default_minimum(book):
    category_affinity_refresh(run_date=timezone.localdate())  # 5 customers at least
    assert set(CategoryReach.objects.values_list("category", flat=True)) == {"coffee", "tea"}
    assert set(CategoryAffinity.objects.values_list("category", "also_bought")) == {
        ("coffee", "tea"),
        ("tea", "coffee"),
    }


def test_recommendations_say_why_and_skip_what_the_customer_buys(book):
    category_affinity_refresh(run_date=timezone.localdate(), min_customers=2)
    picks = recommendations_for_customer(customer=book)
    assert [(p["category"], p["reason"]) for p in picks] == [
        ("Tea", "Customers who buy Coffee also buy Tea"),
        # Cake goes with Coffee no more than chance (lift < 1): it comes as a popular pick.
        ("Soap", "Popular with our customers"),
        ("Cake", "Popular with our customers"),
    ]


def test_a_customer_with_no_purchases_gets_the_most_popular_categories(book):
    category_affinity_refresh(run_date=timezone.localdate(), min_customers=2)
    newcomer = CustomerFactory()
    picks = recommendations_for_customer(customer=newcomer)
    assert [p["category"] for p in picks] == ["Coffee", "Tea", "Soap"]
    assert {p["reason"] for p in picks} == {"Popular with our customers"}


def test_nothing_to_recommend_before_the_first_night(book):
    assert recommendations_for_customer(customer=book) == []


def test_the_nightly_step_recomputes_and_runs_once_per_date(book):
    day = timezone.localdate()
    first = nightly_step_run(step="affinity", run_date=day)
    assert first.status == "succeeded"
    before = list(CategoryAffinity.objects.values_list("category", "also_bought", "lift"))
    again = nightly_step_run(step="affinity", run_date=day)
    assert again.status == "skipped"
    category_affinity_refresh(run_date=day)  # by hand: the same tables again
    assert list(CategoryAffinity.objects.values_list("category", "also_bought", "lift")) == before


def test_recommendations_take_two_queries(book, django_assert_num_queries):
    category_affinity_refresh(run_date=timezone.localdate(), min_customers=2)
    with django_assert_num_queries(3):  # the customer's categories, pairs, popular fill-up
        recommendations_for_customer(customer=book)


def test_the_portal_home_shows_the_for_you_block(book):
    category_affinity_refresh(run_date=timezone.localdate(), min_customers=2)
    client = Client()
    client.force_login(book.user)
    html = client.get(reverse("home")).content.decode()
    assert "For you" in html
    assert "You might also like" in html
    assert "Customers who buy Coffee also buy Tea" in html


def test_a_category_the_customer_buys_is_never_recommended(book):
    category_affinity_refresh(run_date=timezone.localdate(), min_customers=2)
    PurchaseFactory(customer=book, category="Tea")  # now buys Coffee and Tea
    picks = recommendations_for_customer(customer=book)
    assert [p["category"] for p in picks] == ["Soap", "Cake"]
