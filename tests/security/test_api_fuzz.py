"""Schemathesis throws generated requests, valid and invalid, at every operation of the
OpenAPI schema, as an admin through a token: whatever it sends, the API never answers 5xx.

Bounded (a few examples per operation and mode) so it runs in well under a minute; set
FUZZ_EXAMPLES for a longer hunt. Driven with plain Hypothesis rather than schemathesis'
pytest plugin, whose lazy fixture loader does not run under pytest 9.
"""

import functools
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.factories import (
    CustomerFactory,
    FollowUpFactory,
    InteractionFactory,
    PurchaseFactory,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app directly fires request_finished, whose handler would close the
    connection holding the test's transaction; django.test.Client unhooks it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(admin_user, manager_a, keep_test_connection):
    # Some rows for generated ids to hit (small ids are what a fuzzer tries first).
    customer = CustomerFactory(account_manager=manager_a)
    PurchaseFactory(customer=customer)
    InteractionFactory(customer=customer, author=manager_a)
    FollowUpFactory(customer=customer)
    return Token.objects.create(user=admin_user).key


@functools.cache
def operations():
    # The schema describes code, not data: load it once per run.
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    return [result.ok() for result in schema.get_all_operations()]


def test_the_fuzzer_sees_every_api_operation(db, keep_test_connection):
    labels = {operation.label for operation in operations()}
    assert "POST /api/v1/customers/{id}/reassign/" in labels
    assert "DELETE /api/v1/segments/{id}/" in labels
    assert len(labels) >= 20


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_never_answers_5xx(admin_token, mode):
    headers = {"Authorization": f"Token {admin_token}"}
    failures = []
    for operation in operations():

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            run()
        except Unsatisfiable:
            # Nothing invalid to say about this operation (e.g. a negative case for a
            # GET whose only input is a string path id): there is nothing to test.
            continue
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
