import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from loyalty.models import LoyaltyRun, Membership


def test_audit_is_quiet_and_zero_when_clean(funded, capsys):
    call_command("loyalty_audit")
    assert "No drift" in capsys.readouterr().out


def test_audit_reports_drift_and_fails(funded, capsys):
    Membership.objects.filter(pk=funded.pk).update(balance=999)
    with pytest.raises(CommandError, match="1 membership"):
        call_command("loyalty_audit")
    out = capsys.readouterr().out
    assert f"membership {funded.pk}" in out
    assert "balance 999 but ledger 1000" in out


def test_audit_rejects_bad_limit(db):
    with pytest.raises(CommandError, match="limit"):
        call_command("loyalty_audit", "--limit", "0")


def test_nightly_command_runs_each_step_once(funded, capsys):
    call_command("loyalty_nightly", "--date", "2026-03-01")
    call_command("loyalty_nightly", "--date", "2026-03-01")
    statuses = list(LoyaltyRun.objects.order_by("id").values_list("step", "status"))
    assert statuses == [
        ("expire", "succeeded"),
        ("tiers", "succeeded"),
        ("expire", "skipped"),
        ("tiers", "skipped"),
    ]
    with pytest.raises(CommandError, match="2026-01-31"):
        call_command("loyalty_nightly", "--date", "yesterday")
