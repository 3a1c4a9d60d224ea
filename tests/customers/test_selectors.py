import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from customers.models import Customer
from customers.pagination import customer_page, decode_cursor, encode_cursor
from customers.selectors import customer_is_visible_to, customers_visible_to


@pytest.mark.parametrize(
    "who",
    ["admin_user", "manager_a", "manager_b", "customer_user", "inactive_manager", "anonymous"],
)
def test_loaded_customer_visibility_agrees_with_the_queryset(
    request, who, customer_a, customer_b, django_assert_num_queries
):
    if who == "anonymous":
        actor = AnonymousUser()
    elif who == "inactive_manager":
        actor = request.getfixturevalue("manager_a")
        actor.is_active = False
        actor.save()
    else:
        actor = request.getfixturevalue(who)
    visible = set(customers_visible_to(actor).values_list("pk", flat=True))
    with django_assert_num_queries(0):
        answers = {
            c.pk: customer_is_visible_to(actor=actor, customer=c) for c in (customer_a, customer_b)
        }
    assert answers == {c.pk: c.pk in visible for c in (customer_a, customer_b)}
    # and each role sees what the rule says: not a vacuous "both False"
    expected = {
        "admin_user": {customer_a.pk, customer_b.pk},
        "manager_a": {customer_a.pk},
        "manager_b": {customer_b.pk},
    }.get(who, set())
    assert visible == expected


@pytest.mark.parametrize("sort", ["name", "-name", "acquired", "-acquired", "created", "-created"])
def test_a_page_read_ids_first_is_the_same_page(manager_a, sort):
    today = timezone.localdate()
    Customer.objects.bulk_create(
        [
            Customer(
                name=f"Cust {i % 7:02d}",  # ties broken by id
                account_manager=manager_a,
                acquired_on=None if i % 5 == 0 else today - dt.timedelta(days=i % 4),
            )
            for i in range(37)
        ]
    )
    qs = customers_visible_to(manager_a).select_related("segment", "account_manager")
    walks = {}
    for ids_first in (False, True):
        seen, cursor = [], None
        while True:
            page = customer_page(qs, sort, cursor, 10, ids_first=ids_first)
            seen += [(c.pk, c.name, c.segment_id) for c in page]
            if len(page) < 10:
                break
            cursor = decode_cursor(sort, encode_cursor(sort, page[-1]))
        walks[ids_first] = seen
    assert len(walks[True]) == 37
    assert walks[True] == walks[False]
