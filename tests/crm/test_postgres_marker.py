"""The `postgres` marker: runs on PostgreSQL, skips with its reason elsewhere, and fails
under CI, where a skipped postgres test would hide that nothing ran."""

from types import SimpleNamespace

import pytest

from tests import conftest
from tests.conftest import postgres_marker_outcome


def test_on_postgresql_a_marked_test_runs_in_ci_or_not():
    for environ in ({}, {"CI": "true"}):
        assert postgres_marker_outcome(vendor="postgresql", reason=None, environ=environ) == (
            "run",
            "",
        )


def test_elsewhere_it_skips_with_its_reason_and_the_database():
    action, why = postgres_marker_outcome(vendor="sqlite", reason="advisory locks", environ={})
    assert action == "skip"
    assert "advisory locks" in why
    assert "sqlite" in why


def test_without_a_reason_it_still_says_what_it_needs():
    assert postgres_marker_outcome(vendor="sqlite", reason=None, environ={})[1].startswith(
        "needs PostgreSQL"
    )


@pytest.mark.parametrize("environ", [{"CI": "true"}, {"CRM_REQUIRE_SERVICES": "1"}])
def test_under_ci_it_fails_instead(environ):
    action, why = postgres_marker_outcome(vendor="sqlite", reason="row locks", environ=environ)
    assert action == "fail"
    assert "row locks" in why
    assert "DATABASE_URL" in why


def test_ci_must_be_exactly_true():
    assert postgres_marker_outcome(vendor="sqlite", reason=None, environ={"CI": "1"})[0] == "skip"


class _Item:
    def __init__(self, *marks):
        self.own_markers = list(marks)

    def get_closest_marker(self, name):
        return next((m for m in self.own_markers if m.name == name), None)

    def add_marker(self, mark):
        self.own_markers.append(mark.mark)


def test_the_hooks_skip_fail_or_let_through(monkeypatch):
    monkeypatch.setattr(conftest, "connection", SimpleNamespace(vendor="sqlite"))
    monkeypatch.delenv("CRM_REQUIRE_SERVICES", raising=False)

    monkeypatch.delenv("CI", raising=False)
    marked, unmarked = _Item(pytest.mark.postgres(reason="COPY").mark), _Item()
    conftest.pytest_collection_modifyitems([marked, unmarked])
    assert "COPY" in marked.get_closest_marker("skip").kwargs["reason"]
    assert unmarked.own_markers == []
    conftest.pytest_runtest_setup(marked)  # the skip mark does the skipping

    monkeypatch.setenv("CI", "true")
    marked = _Item(pytest.mark.postgres(reason="COPY").mark)
    conftest.pytest_collection_modifyitems([marked])
    assert marked.get_closest_marker("skip") is None
    with pytest.raises(pytest.fail.Exception, match="under CI"):
        conftest.pytest_runtest_setup(marked)
    conftest.pytest_runtest_setup(unmarked)
