import pytest
from django.contrib.auth.models import AnonymousUser

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
