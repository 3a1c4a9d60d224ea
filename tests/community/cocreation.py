"""Helpers shared by the co-creation tests: customers with a portal login, and objects made
through the services (so the tests exercise the same path as the pages)."""

from __future__ import annotations

from relationships.community import services
from tests.factories import CustomerFactory, EarningRuleFactory, MembershipFactory, UserFactory


def portal_customer(username: str, *, manager=None, name: str | None = None):
    """A customer record with its own customer login; returns (user, customer)."""
    user = UserFactory(username=username, role="customer", first_name=username.title())
    customer = CustomerFactory(user=user, account_manager=manager, name=name or f"{username} Ltd")
    return user, customer


def idea_by(user, title: str = "Dark mode", body: str = "Please add a **dark** theme."):
    return services.idea_propose(user=user, title=title, body=body)


def event_rule(customer, code: str, points: int = 50):
    """An active event rule for ``code`` in a program the customer belongs to."""
    membership = MembershipFactory(customer=customer)
    EarningRuleFactory(program=membership.program, kind="event", event_code=code, points=points)
    return membership
