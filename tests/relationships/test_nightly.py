"""The nightly run on a small hand-made book: stored numbers, flags, idempotence, failure."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from customers.errors import Conflict, NotAllowed
from relationships import nightly
from relationships.models import (
    CustomerMetrics,
    DefectionReason,
    ModelFit,
    NightlyRun,
    RelationshipStrategy,
    RetentionSnapshot,
    RiskFlag,
)
from relationships.nightly import write
from relationships.nightly.context import LOCK_KEY
from relationships.services import defection_record
from relationships.tasks import nightly_run as nightly_task
from tests.factories import CustomerFactory, InteractionFactory, PurchaseFactory, SegmentFactory

RUN = dt.date(2026, 6, 1)
AS_OF = timezone.make_aware(dt.datetime(2026, 6, 1))


def buy(customer, days_before, amount="100.00"):
    return PurchaseFactory(
        customer=customer,
        amount=Decimal(amount),
        occurred_at=AS_OF - dt.timedelta(days=days_before),
    )


@pytest.fixture
def book(manager_a, manager_b):
    repeat = SegmentFactory(name="Subscribers")
    RelationshipStrategy.objects.create(
        segment=repeat, relationship_types=["long_term"], goal="retain", expected_gap_days=30
    )
    once = SegmentFactory(name="Travellers")
    RelationshipStrategy.objects.create(
        segment=once, relationship_types=["transactional"], goal="acquire", rhythm="fling"
    )
    loyal = CustomerFactory(name="Loyal", segment=repeat, account_manager=manager_a)
    lapsed = CustomerFactory(name="Lapsed", segment=repeat, account_manager=manager_a)
    traveller = CustomerFactory(name="Traveller", segment=once, account_manager=manager_b)
    unhappy = CustomerFactory(name="Unhappy", segment=repeat, account_manager=manager_b)
    prospect = CustomerFactory(name="Prospect", segment=repeat, stage="prospect", acquired_on=None)
    for k in range(12):  # monthly, the last one 10 days ago
        buy(loyal, 10 + 30 * k)
    for k in range(12):  # monthly for a year, then silence for 200 days
        buy(lapsed, 200 + 30 * k, "250.00")
    buy(traveller, 300, "900.00")  # one trip, as the segment expects
    for k in range(6):
        buy(unhappy, 5 + 30 * k)
    for days in (3, 12):
        InteractionFactory(
            customer=unhappy,
            author=manager_b,
            kind="complaint",
            occurred_at=AS_OF - dt.timedelta(days=days),
        )
    InteractionFactory(
        customer=unhappy,
        author=manager_b,
        kind="complaint",
        occurred_at=AS_OF - dt.timedelta(days=45),
    )
    InteractionFactory(customer=loyal, author=manager_a, occurred_at=AS_OF - dt.timedelta(days=20))
    return {
        "loyal": loyal,
        "lapsed": lapsed,
        "traveller": traveller,
        "unhappy": unhappy,
        "prospect": prospect,
    }


def snapshot_of_results():
    def rows(qs, *exclude):
        return sorted(
            (tuple((k, v) for k, v in r.items() if k not in {"id", *exclude}) for r in qs.values()),
            key=repr,
        )

    return (
        rows(CustomerMetrics.objects.all()),
        rows(RiskFlag.objects.all()),
        rows(RetentionSnapshot.objects.all()),
        rows(ModelFit.objects.all(), "created_at"),
    )


def test_run_stores_each_customers_numbers(book):
    call_command("run_nightly", "--date", RUN.isoformat())

    lapsed = CustomerMetrics.objects.get(customer=book["lapsed"])
    assert lapsed.computed_for == RUN
    assert lapsed.purchase_count == 12
    assert lapsed.revenue == Decimal("3000.00")
    assert lapsed.days_since_last_purchase == 200
    assert lapsed.usual_gap_days == pytest.approx(30.0)
    assert lapsed.p_alive is not None
    assert lapsed.p_alive < 0.5
    assert lapsed.risk_score >= 60
    assert any("usual gap" in reason for reason in lapsed.reasons)

    loyal = CustomerMetrics.objects.get(customer=book["loyal"])
    assert loyal.purchase_count == 12
    assert loyal.days_since_last_purchase == 10
    assert loyal.risk_score < 60
    assert loyal.clv_12m > 0
    assert loyal.last_manager_contact_at == AS_OF - dt.timedelta(days=20)

    unhappy = CustomerMetrics.objects.get(customer=book["unhappy"])
    assert unhappy.complaints_30d == 2  # the one 45 days ago is too old
    assert "2 complaints in 30 days" in unhappy.reasons

    prospect = CustomerMetrics.objects.get(customer=book["prospect"])
    assert prospect.purchase_count == 0
    assert prospect.p_alive is None
    assert prospect.risk_score == 0
    assert prospect.reasons == []

    fit = ModelFit.objects.get(run_date=RUN)
    assert fit.bgnbd_r > 0
    assert fit.gg_p > 0
    assert fit.n_customers == 4
    run = NightlyRun.objects.get(run_date=RUN)
    assert run.status == "succeeded"
    steps = {
        "choose_mode",
        "metrics",
        "model_fit",
        "scores",
        "flags",
        "retention",
        "ladder",
        "write_metrics",
    }
    if connection.vendor == "postgresql":
        steps |= {"keep_state", "analyze"}
    assert set(run.durations) == steps
    assert run.rows["metrics"] == 5


def test_only_repeat_customers_gone_quiet_are_flagged_for_their_own_manager(book, manager_a):
    nightly.nightly_run(run_date=RUN)

    flags = list(RiskFlag.objects.filter(cleared_on__isnull=True))
    assert [f.customer for f in flags] == [book["lapsed"]]
    assert flags[0].account_manager == manager_a
    assert flags[0].raised_on == RUN
    assert (
        flags[0].value_at_risk == CustomerMetrics.objects.get(customer=book["lapsed"]).value_at_risk
    )
    # A one-off traveller of a "fling" segment is not a failure.
    traveller = CustomerMetrics.objects.get(customer=book["traveller"])
    assert not any("usual gap" in r or "P(alive)" in r for r in traveller.reasons)


def test_a_recovered_customer_is_cleared_and_the_history_kept(book):
    nightly.nightly_run(run_date=RUN)
    buy(book["lapsed"], -3)  # buys again after the first run
    nightly.nightly_run(run_date=RUN + dt.timedelta(days=7))

    flag = RiskFlag.objects.get(customer=book["lapsed"])
    assert flag.raised_on == RUN
    assert flag.cleared_on == RUN + dt.timedelta(days=7)
    assert not RiskFlag.objects.filter(cleared_on__isnull=True).exists()


def test_running_twice_gives_identical_results(book):
    nightly.nightly_run(run_date=RUN)
    first = snapshot_of_results()
    nightly.nightly_run(run_date=RUN)
    assert snapshot_of_results() == first
    assert NightlyRun.objects.count() == 1


def test_a_run_failing_halfway_leaves_the_previous_results(book, monkeypatch):
    nightly.nightly_run(run_date=RUN)
    before = snapshot_of_results()
    buy(book["lapsed"], -3)

    def explode(ctx):
        raise RuntimeError("disk full")

    monkeypatch.setitem(nightly.STEPS, "retention", explode)
    with pytest.raises(CommandError, match="previous results are unchanged: disk full"):
        call_command("run_nightly", "--date", (RUN + dt.timedelta(days=7)).isoformat())

    assert snapshot_of_results() == before
    assert CustomerMetrics.objects.get(customer=book["lapsed"]).computed_for == RUN
    failed = NightlyRun.objects.get(run_date=RUN + dt.timedelta(days=7))
    assert failed.status == "failed"
    assert "disk full" in failed.error


def test_an_earlier_date_than_the_last_good_run_is_refused(book):
    nightly.nightly_run(run_date=RUN)
    with pytest.raises(Conflict):
        nightly.nightly_run(run_date=RUN - dt.timedelta(days=1))


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="SQLite uses the run row as its lock; PostgreSQL an advisory lock",
)
def test_a_second_run_while_one_is_going_is_refused(book):
    NightlyRun.objects.create(run_date=RUN, status="running")
    with pytest.raises(nightly.NightlyRunBusy):
        nightly.nightly_run(run_date=RUN)


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "31/12/2026"])
def test_bad_date_flag_is_a_one_line_error(db, value):
    with pytest.raises(CommandError, match="--date must be a date like"):
        call_command("run_nightly", "--date", value)


def test_future_date_is_refused(db):
    with pytest.raises(CommandError, match="in the future"):
        call_command("run_nightly", "--date", "2999-01-01")


def test_celery_task_runs_the_same_service(book):
    result = nightly_task.delay(run_date=RUN.isoformat()).get()
    assert result["status"] == "succeeded"
    assert RiskFlag.objects.filter(customer=book["lapsed"]).exists()


def test_the_schedule_is_in_the_database_at_two_oclock(db):
    task = PeriodicTask.objects.get(task="relationships.tasks.nightly_run")
    assert task.crontab.hour == "2"
    assert task.crontab.minute == "0"


def test_retention_snapshots_cover_periods_and_cuts(book, manager_a):
    nightly.nightly_run(run_date=RUN)
    quarter = RetentionSnapshot.objects.get(
        run_date=RUN, period_kind="quarter", period_start=dt.date(2026, 1, 1), cut_kind="all"
    )
    # On 1 January: loyal, lapsed (bought until mid-November), unhappy acquired? and the
    # traveller (one-off, never churns by silence) were customers.
    assert quarter.at_start >= 3
    assert quarter.retained + quarter.lost == quarter.at_start
    kinds = set(RetentionSnapshot.objects.filter(run_date=RUN).values_list("cut_kind", flat=True))
    assert kinds == {"all", "segment", "relationship_type", "account_manager", "cohort"}
    assert RetentionSnapshot.objects.filter(
        run_date=RUN, cut_kind="account_manager", cut_key=str(manager_a.pk)
    ).exists()


def test_recording_a_defection_marks_the_customer_defected(book, manager_a, manager_b):
    reason = DefectionReason.objects.get(code="price")
    defection_record(
        actor=manager_a,
        customer=book["lapsed"],
        reason=reason,
        exit_interview_notes="Cheaper offer.",
    )
    book["lapsed"].refresh_from_db()
    assert book["lapsed"].status == "defected"
    with pytest.raises(NotAllowed):
        defection_record(actor=manager_b, customer=book["loyal"], reason=reason)
    nightly.nightly_run(run_date=RUN)
    assert not RiskFlag.objects.filter(customer=book["lapsed"], cleared_on__isnull=True).exists()


@pytest.mark.postgres(reason="advisory locks are PostgreSQL's")
def test_a_run_while_another_holds_the_lock_is_refused_and_changes_nothing(book):
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        with pytest.raises(nightly.NightlyRunBusy):
            nightly.nightly_run(run_date=RUN)
    finally:
        other.close()
    assert not CustomerMetrics.objects.exists()
    assert not NightlyRun.objects.exists()


def test_an_open_flag_carries_the_latest_numbers(book):
    nightly.nightly_run(run_date=RUN)
    flag = RiskFlag.objects.get(customer=book["lapsed"])
    later = RUN + dt.timedelta(days=60)
    nightly.nightly_run(run_date=later)

    flag.refresh_from_db()
    metrics = CustomerMetrics.objects.get(customer=book["lapsed"])
    assert flag.raised_on == RUN
    assert flag.cleared_on is None
    assert flag.score == metrics.risk_score
    assert flag.value_at_risk == metrics.value_at_risk
    assert flag.reasons == metrics.reasons
    assert "260 days" in " ".join(flag.reasons)


def test_loyalty_points_left_unused_are_a_reason(book):
    from tests.factories import MembershipFactory

    MembershipFactory(customer=book["loyal"], balance=500, joined_at=AS_OF - dt.timedelta(days=200))
    MembershipFactory(customer=book["unhappy"], balance=0, joined_at=AS_OF - dt.timedelta(days=200))
    nightly.nightly_run(run_date=RUN)

    assert (
        "points unused for 7 months" in CustomerMetrics.objects.get(customer=book["loyal"]).reasons
    )
    assert not any(
        "points" in r for r in CustomerMetrics.objects.get(customer=book["unhappy"]).reasons
    )


def test_a_run_failing_while_rewriting_metrics_leaves_the_previous_rows(book, monkeypatch):
    nightly.nightly_run(run_date=RUN)
    before = snapshot_of_results()
    ids_before = dict(CustomerMetrics.objects.values_list("customer_id", "id"))
    # The write fails after the table was emptied (PostgreSQL) / mid-upsert (SQLite).
    monkeypatch.setattr(write, "METRIC_FIELDS", [*write.METRIC_FIELDS, "no_such_column"])
    with pytest.raises(CommandError, match="previous results are unchanged"):
        call_command("run_nightly", "--date", (RUN + dt.timedelta(days=7)).isoformat())

    assert snapshot_of_results() == before
    assert dict(CustomerMetrics.objects.values_list("customer_id", "id")) == ids_before
    if connection.vendor == "postgresql":  # the indexes dropped for the rewrite are back
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s",
                [CustomerMetrics._meta.db_table],
            )
            assert {"metrics_risk", "metrics_value_at_risk"} <= {r[0] for r in cursor.fetchall()}


def test_a_rerun_keeps_each_customers_metrics_row(book):
    nightly.nightly_run(run_date=RUN)
    ids = dict(CustomerMetrics.objects.values_list("customer_id", "id"))
    nightly.nightly_run(run_date=RUN + dt.timedelta(days=1))
    assert dict(CustomerMetrics.objects.values_list("customer_id", "id")) == ids
    assert set(CustomerMetrics.objects.values_list("computed_for", flat=True)) == {
        RUN + dt.timedelta(days=1)
    }


def test_the_dashboard_counts_come_from_the_run(book, admin_user, manager_a, manager_b):
    from relationships.selectors import analytics as sel

    run = nightly.nightly_run(run_date=RUN)
    stored = run.rows["dashboard"]
    everyone = CustomerMetrics.objects.all()
    assert {(f, s): n for f, s, n in stored["tiers"]} == sel._tier_counts(everyone)
    assert dict(stored["clv"]) == sel._clv_counts(everyone)
    assert sum(n for _, _, n in stored["tiers"]) == 5
    assert sel.clv_histogram(actor=admin_user)["total"] == 4  # the prospect has no purchases
    alices = stored["managers"][str(manager_a.pk)]
    assert {(f, s): n for f, s, n in alices["tiers"]} == sel._tier_counts(
        sel.metrics_visible_to(manager_a)
    )
    assert dict(alices["clv"]) == sel._clv_counts(sel.metrics_visible_to(manager_a))

    assert sel.dashboard_ladder_counts(actor=admin_user) == sel.ladder_counts(actor=admin_user)
    assert sel.dashboard_ladder_counts(actor=manager_a) == sel.ladder_counts(actor=manager_a)

    # The page reads the stored counts; a manager missing from them is counted live.
    run.rows["dashboard"] = {
        "tiers": [[0, 0, 41]],
        "clv": [[1, 42]],
        "managers": {str(manager_a.pk): {"tiers": [[2, 2, 7]], "clv": []}},
    }
    run.save()
    grid = sel.value_tier_grid(actor=admin_user)
    assert [cell["count"] for row in grid for cell in row if cell["count"]] == [41]
    assert sel.clv_histogram(actor=admin_user)["total"] == 42
    assert [
        cell["count"]
        for row in sel.value_tier_grid(actor=manager_a)
        for cell in row
        if cell["count"]
    ] == [7]
    assert sum(cell["count"] for row in sel.value_tier_grid(actor=manager_b) for cell in row) == 2
    assert sel.dashboard_ladder_counts(actor=manager_b) == sel.ladder_counts(actor=manager_b)


def test_a_runs_time_is_its_wall_time_not_the_sum_of_overlapping_steps(db):
    start = timezone.make_aware(dt.datetime(2026, 6, 1, 2, 0))
    finished = NightlyRun.objects.create(
        run_date=RUN,
        status="succeeded",
        started_at=start,
        finished_at=start + dt.timedelta(seconds=42.5),
        durations={"write_metrics": 14.0, "retention": 8.0, "metrics": 21.0, "scores": 1.5},
    )
    running = NightlyRun.objects.create(
        run_date=RUN + dt.timedelta(days=1),
        started_at=start,
        durations={"metrics": 3.0, "scores": 1.25},
    )
    assert finished.total_seconds == 42.5  # write_metrics and retention overlap
    assert running.total_seconds == 4.25  # not finished: the steps done so far
