"""Races on PostgreSQL: a customer (or a script with their token) opening many support
requests at the same moment does not get past the daily limit."""

import pytest

from customers.errors import TooMany
from relationships.support import services
from relationships.support.models import SupportRequest
from tests.concurrency.together import run_n_together
from tests.factories import CustomerFactory, UserFactory

pytestmark = [
    pytest.mark.postgres(reason="the customer row lock that serialises the count needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_requests_opened_at_once_stop_at_the_daily_limit(settings):
    settings.CRM_SUPPORT_OPEN_PER_DAY = 3
    user = UserFactory(username="flood", role="customer")
    customer = CustomerFactory(name="Flood Ltd", user=user)

    def open_one(n: int):
        return services.support_request_open(
            customer=customer, author=user, category="question", subject=f"Q{n}", body="?"
        )

    results = run_n_together(8, open_one)

    assert sum(isinstance(r, SupportRequest) for r in results) == 3
    assert sum(isinstance(r, TooMany) for r in results) == 5
    assert SupportRequest.objects.filter(customer=customer).count() == 3
