"""Schemathesis throws generated requests, valid and invalid, at every operation of the
served OpenAPI schema, as an admin and as an account manager (each through a token), and
holds every answer to the schema: never a 5xx, only documented status codes, the documented
content type and headers, and bodies that match the documented shapes.

Bounded (FUZZ_EXAMPLES examples per operation, mode and role) so it runs in about a minute;
set FUZZ_EXAMPLES=50 for a longer hunt (docs/api.md). Driven with plain Hypothesis rather
than schemathesis' pytest plugin, whose lazy fixture loader does not run under pytest 9.
What a longer hunt found is kept as plain tests in tests/security/test_api_conformance.py.
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
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from relationships.models import DefectionReason
from tests.factories import (
    CorrectiveActionFactory,
    CustomerFactory,
    DefectionFactory,
    FollowUpFactory,
    InteractionFactory,
    LadderSuggestionFactory,
    MembershipFactory,
    ProgramFactory,
    PurchaseFactory,
    RewardFactory,
    RiskFlagFactory,
    TierFactory,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


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
def book(admin_user, manager_a, keep_test_connection):
    """Rows for generated ids to hit (small ids are what a fuzzer tries first) and for the
    list answers to carry, so their shapes are checked against the schema too. The
    customer has no e-mail address: an empty one must still match the schema."""
    customer = CustomerFactory(account_manager=manager_a, email="", segment=None)
    PurchaseFactory(customer=customer)
    InteractionFactory(customer=customer, author=manager_a)
    program = ProgramFactory()
    TierFactory(program=program)
    RewardFactory(program=program)
    MembershipFactory(program=program, customer=customer)
    RiskFlagFactory(customer=customer)
    LadderSuggestionFactory(customer=CustomerFactory(account_manager=manager_a, stage="customer"))
    # Seeded by a migration, but a transactional test elsewhere in the run may have flushed it.
    DefectionReason.objects.get_or_create(code="price", defaults={"name": "Price"})
    DefectionFactory(customer=CustomerFactory(account_manager=manager_a))
    CorrectiveActionFactory(owner=manager_a)
    FollowUpFactory(customer=customer)
    return {"admin": admin_user, "account_manager": manager_a}


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


def fuzz(operations_, headers, mode) -> list[str]:
    failures = []
    for operation in operations_:

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
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # Nothing invalid to say about this operation (e.g. a negative case for a
            # GET whose only input is a string path id): there is nothing to test.
            continue
        except (Exception, FailureGroup) as exc:  # every operation's failures, not the first
            failures.append(f"{operation.label}: {exc}")
    return failures


@pytest.mark.parametrize("role", ["admin", "account_manager"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_as_its_schema_says(book, role, mode):
    token = Token.objects.create(user=book[role]).key
    failures = fuzz(operations(), {"Authorization": f"Token {token}"}, mode)
    assert not failures, "\n\n".join(failures)
