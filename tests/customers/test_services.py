import pytest
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import AccountManagerAssignment, StageChange
from customers.services import customer_create, customer_reassign, purchase_record
from tests.factories import CustomerFactory


def test_manager_creates_into_own_book(manager_a):
    customer = customer_create(actor=manager_a, name="Nordwind GmbH", kind="organisation")
    assert customer.account_manager == manager_a
    assert customer.assignments.get().account_manager == manager_a


def test_manager_cannot_create_into_another_book(manager_a, manager_b):
    with pytest.raises(NotAllowed):
        customer_create(actor=manager_a, name="X", account_manager=manager_b)


def test_reassign_keeps_history(admin_user, manager_a, manager_b, customer_a):
    customer_reassign(
        actor=admin_user, customer=customer_a, account_manager=manager_b, reason="Alice moved teams"
    )
    customer_a.refresh_from_db()
    assert customer_a.account_manager == manager_b
    history = list(AccountManagerAssignment.objects.filter(customer=customer_a).order_by("id"))
    assert [a.account_manager for a in history] == [manager_a, manager_b]
    assert history[0].ended_at is not None
    assert history[1].ended_at is None
    assert history[1].reason == "Alice moved teams"


def test_reassign_needs_admin_and_reason(admin_user, manager_a, manager_b, customer_a):
    with pytest.raises(NotAllowed):
        customer_reassign(
            actor=manager_a, customer=customer_a, account_manager=manager_b, reason="x"
        )
    with pytest.raises(ValidationFailed):
        customer_reassign(
            actor=admin_user, customer=customer_a, account_manager=manager_b, reason=" "
        )
    customer_a.refresh_from_db()
    assert customer_a.account_manager == manager_a


def test_purchase_reference_unique_per_customer(db):
    customer = CustomerFactory(stage="prospect")
    purchase_record(
        customer=customer, reference="INV-1", amount="10.50", occurred_at=timezone.now()
    )
    with pytest.raises(Conflict):
        purchase_record(
            customer=customer, reference="INV-1", amount="10.50", occurred_at=timezone.now()
        )
    assert customer.purchases.count() == 1
    assert StageChange.objects.get(customer=customer).to_stage == "customer"


@pytest.mark.parametrize(
    ("amount", "currency"), [("-1", "EUR"), ("abc", "EUR"), ("1.234", "EUR"), ("5", "EU")]
)
def test_purchase_bad_input_is_refused(db, amount, currency):
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed):
        purchase_record(
            customer=customer,
            reference="R",
            amount=amount,
            currency=currency,
            occurred_at=timezone.now(),
        )
    assert customer.purchases.count() == 0
