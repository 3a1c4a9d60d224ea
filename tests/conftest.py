import os
from collections.abc import Mapping

import pytest
from django.db import connection

from tests.factories import CustomerFactory, UserFactory


def services_required(environ: Mapping[str, str]) -> bool:
    """CI (and anyone who sets CRM_REQUIRE_SERVICES=1) wants a missing service to fail a
    test, not skip it: a green run must have run everything."""
    return environ.get("CI") == "true" or environ.get("CRM_REQUIRE_SERVICES") == "1"


def postgres_marker_outcome(
    *, vendor: str, reason: str | None, environ: Mapping[str, str]
) -> tuple[str, str]:
    """What becomes of a test marked `postgres`: ("run", ""), ("skip", why) or ("fail", why)."""
    if vendor == "postgresql":
        return "run", ""
    why = f"{reason or 'needs PostgreSQL'} (this run's database is {vendor})"
    if services_required(environ):
        return "fail", f"{why}; under CI a postgres test must run: point DATABASE_URL at PostgreSQL"
    return "skip", why


def _postgres_outcome(item: pytest.Item) -> tuple[str, str]:
    marker = item.get_closest_marker("postgres")
    if marker is None:
        return "run", ""
    return postgres_marker_outcome(
        vendor=connection.vendor, reason=marker.kwargs.get("reason"), environ=os.environ
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skipped through a `skip` mark, so the summary names the test, not this file."""
    for item in items:
        action, why = _postgres_outcome(item)
        if action == "skip":
            item.add_marker(pytest.mark.skip(reason=why))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Failed before the test's fixtures are set up (an error at setup, never a pass)."""
    action, why = _postgres_outcome(item)
    if action == "fail":
        pytest.fail(why, pytrace=False)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", role="admin", first_name="Ada", last_name="Admin")


@pytest.fixture
def manager_a(db):
    return UserFactory(
        username="alice", role="account_manager", first_name="Alice", last_name="Anders"
    )


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
