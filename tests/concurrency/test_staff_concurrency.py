"""Races on staff accounts (PostgreSQL): row locks keep an active admin and keep
customers away from a manager being deactivated."""

import pytest

from customers import services
from customers.errors import ApplicationError
from customers.models import Customer, Role, User
from tests.concurrency.together import run_together
from tests.factories import CustomerFactory, UserFactory

pytestmark = [
    pytest.mark.postgres(
        reason="row locks need PostgreSQL; SQLite serialises writers, so there is no race to test"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_two_admins_deactivating_each_other_at_once_leave_one_active_admin():
    for _ in range(5):
        User.objects.filter(username__in=["ann", "ben"]).delete()
        ann = UserFactory(username="ann", role="admin")
        ben = UserFactory(username="ben", role="admin")
        results = run_together(
            [
                lambda a=ann, b=ben: services.staff_deactivate(actor=a, user=b),
                lambda a=ann, b=ben: services.staff_deactivate(actor=b, user=a),
            ]
        )
        assert sum(isinstance(r, ApplicationError) for r in results) == 1, results
        assert User.objects.filter(role=Role.ADMIN, is_active=True).count() == 1


def test_a_customer_handed_to_a_manager_being_deactivated_is_never_left_with_them():
    admin = UserFactory(username="root", role="admin")
    UserFactory(username="root2", role="admin")
    leaving = UserFactory(username="leaving", role="account_manager")
    staying = UserFactory(username="staying", role="account_manager")
    for k in range(5):
        customer = CustomerFactory(account_manager=staying, name=f"Race {k}")
        leaving.is_active = True
        leaving.save(update_fields=["is_active"])
        run_together(
            [
                lambda c=customer: services.customer_reassign(
                    actor=admin, customer=c, account_manager=leaving, reason="race"
                ),
                lambda: services.staff_deactivate(actor=admin, user=leaving),
            ]
        )
        leaving.refresh_from_db()
        holds = Customer.objects.filter(account_manager=leaving).exists()
        # Either the handover won (they stay active with the customer) or the
        # deactivation did (the customer stays where it was): never inactive with a book.
        assert leaving.is_active == holds, (leaving.is_active, holds)
        if holds:
            Customer.objects.filter(account_manager=leaving).update(account_manager=staying)
