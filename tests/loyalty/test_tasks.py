import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from customers.errors import ValidationFailed
from customers.models import Purchase
from loyalty import tasks
from loyalty.models import LedgerEntry, LoyaltyRun, Membership
from loyalty.services import points_adjust
from tests.factories import ProgramFactory, PurchaseFactory


def test_nightly_schedule_is_in_the_database(db):
    task = PeriodicTask.objects.get(task="loyalty.tasks.nightly")
    assert (task.crontab.hour, task.crontab.minute) == ("2", "30")


def test_nightly_task_runs_once_per_date(customer_a, manager_a):
    program = ProgramFactory(name="Expiring", expiry_policy="months", expiry_months=1)
    from loyalty.services import membership_join

    membership = membership_join(program=program, customer=customer_a, actor=manager_a)
    points_adjust(membership=membership, points=70, reason="Gift", actor=manager_a)
    day = (timezone.localdate() + dt.timedelta(days=62)).isoformat()
    first = tasks.nightly.delay(day).get()
    second = tasks.nightly.delay(day).get()
    assert [r["step"] for r in first] == ["expire", "tiers", "affinity", "offers"]
    assert [r["status"] for r in first] == ["succeeded"] * 4
    assert [r["status"] for r in second] == ["skipped"] * 4
    assert first[0]["rows"] == 1
    membership.refresh_from_db()
    assert membership.balance == 0
    assert LoyaltyRun.objects.filter(status="succeeded").count() == 4


def test_earning_task_twice_earns_once(customer_a):
    ProgramFactory(name="Backfill")
    purchase = PurchaseFactory(customer=customer_a, amount="75.00")  # created without the hook
    assert not LedgerEntry.objects.exists()
    assert tasks.earn_for_purchases.delay([purchase.pk]).get() == 1
    assert tasks.earn_for_purchases.delay([purchase.pk]).get() == 0
    membership = Membership.objects.get(customer=customer_a)
    assert membership.balance == 75
    assert Purchase.objects.count() == 1


def test_nightly_task_refuses_a_bad_date_without_recording_a_run(db):
    with pytest.raises(ValidationFailed, match="2026-01-31"):
        tasks.nightly.delay("31/01/2026").get()
    assert not LoyaltyRun.objects.exists()
