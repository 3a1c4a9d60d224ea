import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from crm import demo
from crm.demo import run as demo_run
from customers.models import (
    AccountManagerAssignment,
    Customer,
    Purchase,
    Segment,
    StageChange,
    User,
)
from relationships.models import Defection, DefectionReason, FollowUp, Interaction
from relationships.selectors import defection_report

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


def wipe() -> None:
    Defection.objects.all().delete()
    FollowUp.objects.all().delete()
    Interaction.objects.all().delete()
    Purchase.objects.all().delete()
    Customer.objects.all().delete()


def book_snapshot() -> tuple:
    customers = list(
        Customer.objects.order_by("id").values_list(
            "name", "email", "stage", "status", "segment__name", "account_manager__username"
        )
    )
    purchases = list(
        Purchase.objects.order_by("reference").values_list("reference", "amount", "product")
    )
    interactions = sorted(
        Interaction.objects.values_list(
            "customer__email", "kind", "channel", "subject", "root_cause__code"
        )
    )
    defections = sorted(
        Defection.objects.values_list(
            "customer__email", "reason__code", "defected_on", "exit_interview_notes"
        )
    )
    return customers, purchases, interactions, defections


def test_seed_builds_a_believable_book():
    output = seed("--customers", "400", "--seed", "3")

    assert "Seeded 400 customers" in output
    assert Customer.objects.count() == 400
    assert len(set(Customer.objects.values_list("stage", flat=True))) >= 5
    assert set(Customer.objects.values_list("status", flat=True)) == {
        "active",
        "inactive",
        "defected",
    }
    assert Segment.objects.filter(customers__isnull=False).distinct().count() == 5
    assert Segment.objects.get(name="SMB").inactivity_days == 180
    assert Purchase.objects.count() > 1500
    assert Interaction.objects.filter(kind="complaint").exists()
    assert not Purchase.objects.filter(customer__stage="prospect").exists()
    assert (
        Customer.objects.exclude(acquired_on=None)
        .filter(acquired_on__lt=timezone.localdate() - dt.timedelta(days=2 * 365))
        .exists()
    )
    assert Customer.objects.filter(tags__isnull=False).exists()
    assert StageChange.objects.exists()
    reassigned = AccountManagerAssignment.objects.filter(ended_at__isnull=False)
    assert reassigned.exists()
    # Every managed customer has exactly one open assignment, to its current manager.
    managed = Customer.objects.exclude(account_manager=None)
    open_rows = AccountManagerAssignment.objects.filter(ended_at=None)
    assert open_rows.count() == managed.count()
    assert not open_rows.exclude(account_manager=F("customer__account_manager")).exists()


def test_the_book_says_why_customers_left_and_what_they_complained_about():
    seed("--customers", "600", "--seed", "5")
    today = timezone.localdate()

    # Every defected customer has its defection, with a reason from the taxonomy, on a day
    # after they were acquired and not after today; most said something on the way out.
    defected = Customer.objects.filter(status="defected")
    defections = Defection.objects.select_related("customer", "reason")
    assert defected.count() == defections.count() > 10
    assert set(defections.values_list("customer", flat=True)) == set(
        defected.values_list("pk", flat=True)
    )
    assert all(d.reason.is_active for d in defections)
    assert all(
        d.customer.acquired_on is not None and d.customer.acquired_on <= d.defected_on <= today
        for d in defections
    )
    assert defections.exclude(exit_interview_notes="").count() > defections.count() / 2
    assert len(set(defections.values_list("reason__code", flat=True))) >= 4
    # Every complaint is classified, and nothing else has a cause.
    complaints = Interaction.objects.filter(kind="complaint")
    assert complaints.exists()
    assert not complaints.filter(root_cause=None).exists()
    assert not Interaction.objects.exclude(kind="complaint").exclude(root_cause=None).exists()
    # So the report has real bars: defections and complaints in several months.
    admin = User.objects.get(username="admin")
    report = defection_report(actor=admin)
    assert sum(1 for row in report["defections_by_month"] if row["total"]) >= 6
    assert sum(1 for row in report["complaints_by_month"] if row["total"]) >= 6
    assert "Not classified" not in report["complaint_causes"]


def test_a_retired_reason_is_not_used_by_the_seeder():
    DefectionReason.objects.filter(code__in=["price", "service"]).update(is_active=False)

    seed("--customers", "300", "--seed", "5")

    used = set(Defection.objects.values_list("reason__code", flat=True))
    used |= set(
        Interaction.objects.exclude(root_cause=None).values_list("root_cause__code", flat=True)
    )
    assert used
    assert not used & {"price", "service"}


def test_every_manager_has_follow_ups_due_around_today():
    seed("--customers", "300")
    today = timezone.localdate()
    due = FollowUp.objects.filter(
        done_at=None,
        due_on__range=(today - dt.timedelta(days=3), today + dt.timedelta(days=4)),
    )
    for username in ("alice", "bob", "chris"):
        assert due.filter(assignee__username=username).count() >= 3
    # Most of the follow-ups asked for long ago are done, by their author.
    old = FollowUp.objects.filter(due_on__lt=today - dt.timedelta(days=30))
    assert old.filter(done_at__isnull=False).count() > 0.8 * old.count() > 0
    assert not old.filter(done_at__isnull=False, done_by__isnull=True).exists()


def test_demo_logins_work(client):
    seed("--customers", "50")

    for username, password in [
        ("admin", demo.ADMIN_PASSWORD),
        ("alice", demo.MANAGER_PASSWORD),
        ("bob", demo.MANAGER_PASSWORD),
        ("chris", demo.MANAGER_PASSWORD),
        ("customer", demo.CUSTOMER_PASSWORD),
    ]:
        # through the sign-in page (django-allauth), as a person would
        response = client.post(reverse("login"), {"login": username, "password": password})
        assert response.status_code == 302, username
        assert response["Location"] == reverse("home"), username
        assert client.session.get("_auth_user_id"), username
        client.logout()
    assert User.objects.get(username="admin").is_admin
    assert User.objects.get(username="alice").is_account_manager
    record = Customer.objects.get(user__username="customer")
    assert record.name == demo.PORTAL_CUSTOMER_NAME
    assert record.purchases.exists()


def test_if_empty_skips_a_book_that_has_customers():
    seed("--customers", "30")

    output = seed("--customers", "30", "--if-empty")

    assert "nothing seeded" in output
    assert Customer.objects.count() == 30


def test_if_empty_seeds_an_empty_book():
    output = seed("--customers", "20", "--if-empty")

    assert "Seeded 20 customers" in output
    assert Customer.objects.count() == 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "--customers must be at least 1"),
        (["--customers", "-5"], "--customers must be at least 1"),
        (["--customers", "many"], "--customers must be a whole number"),
        (["--customers", "2.5"], "--customers must be a whole number"),
        (["--seed", "x"], "--seed must be a whole number"),
        (["--purchases-per-customer", "lots"], "--purchases-per-customer must be a number"),
        (["--interactions-per-customer", "-1"], "--interactions-per-customer must be between"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
    ],
)
def test_bad_flags_are_one_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert not Customer.objects.exists()


def test_same_seed_gives_the_same_book():
    seed("--customers", "150", "--seed", "11", "--batch-size", "40")
    first = book_snapshot()
    wipe()

    seed("--customers", "150", "--seed", "11", "--batch-size", "40")
    assert book_snapshot() == first
    wipe()

    seed("--customers", "150", "--seed", "12", "--batch-size", "40")
    assert book_snapshot()[0] != first[0]


def test_bench_customer_has_exactly_a_thousand_history_rows():
    seed("--customers", "60", "--bench-customer", "--purchases-per-customer", "2")

    heavy = Customer.objects.get(name=demo.BENCH_CUSTOMER_NAME)
    assert heavy.purchases.count() == demo.BENCH_HISTORY
    assert heavy.interactions.count() == demo.BENCH_HISTORY
    assert heavy.stage == "partner"


def test_a_failed_run_leaves_no_half_seeded_book(monkeypatch):
    real = demo_run.generate_batch
    calls = []

    def fail_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(demo_run, "generate_batch", fail_on_second_batch)
    with pytest.raises(RuntimeError, match="disk full"):
        seed("--customers", "50", "--batch-size", "20")

    assert not Customer.objects.exists()
    assert not Purchase.objects.exists()
    assert not User.objects.filter(username="alice").exists()


@pytest.mark.postgres(reason="COPY and index rebuilds are PostgreSQL only")
def test_postgres_bulk_path_rebuilds_indexes_and_keeps_sequences(monkeypatch):
    monkeypatch.setattr(demo_run, "REBUILD_INDEXES_FROM_ROWS", 0)

    def index_names():
        with connection.cursor() as c:
            c.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename IN "
                "('customers_customer', 'customers_purchase', 'relationships_interaction')"
            )
            return {row[0] for row in c.fetchall()}

    def foreign_keys():
        with connection.cursor() as c:
            c.execute(
                "SELECT conname FROM pg_constraint WHERE contype IN ('f', 'u') AND conrelid IN "
                "('customers_purchase'::regclass, 'relationships_interaction'::regclass)"
            )
            return {row[0] for row in c.fetchall()}

    indexes_before, keys_before = index_names(), foreign_keys()
    assert {"customer_name_trgm", "purchase_customer_time"} <= indexes_before

    output = seed("--customers", "200", "--purchases-per-customer", "3")

    assert "rebuild indexes and foreign keys" in output
    assert index_names() == indexes_before
    assert foreign_keys() == keys_before
    assert Purchase.objects.count() > 200
    # Ids came from the sequence: the next record the app creates gets a fresh one.
    newest = Customer.objects.order_by("-id").first()
    added = Customer.objects.create(name="Added after seeding")
    assert added.pk > newest.pk
