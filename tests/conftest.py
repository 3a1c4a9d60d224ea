import pytest

from tests.factories import CustomerFactory, UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", role="admin", first_name="Ada", last_name="Admin")


@pytest.fixture
def manager_a(db):
    return UserFactory(username="alice", role="account_manager", first_name="Alice", last_name="Anders")


@pytest.fixture
def manager_b(db):
    return UserFactory(username="bob", role="account_manager", first_name="Bob", last_name="Berg")


@pytest.fixture
def customer_user(db):
    return UserFactory(username="carol", role="customer", first_name="Carol", last_name="Client")


@pytest.fixture
def customer_a(manager_a):
    return CustomerFactory(account_manager=manager_a, name="Acme Alpha")


@pytest.fixture
def customer_b(manager_b):
    return CustomerFactory(account_manager=manager_b, name="Bravo Beta")
