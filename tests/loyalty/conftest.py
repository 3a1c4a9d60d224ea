import pytest

from loyalty.services import points_adjust
from tests.factories import MembershipFactory, ProgramFactory


@pytest.fixture
def program(db):
    return ProgramFactory(name="Club", points_name="stars")


@pytest.fixture
def membership_a(program, customer_a):
    return MembershipFactory(program=program, customer=customer_a)


@pytest.fixture
def funded(membership_a, manager_a):
    """Customer A holds 1,000 stars, added by their account manager."""
    points_adjust(membership=membership_a, points=1000, reason="Welcome gift", actor=manager_a)
    membership_a.refresh_from_db()
    return membership_a
