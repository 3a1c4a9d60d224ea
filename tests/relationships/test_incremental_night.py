"""Incremental nights: only the customers something happened to are aggregated again,
and what they and the at-risk flags end up with is what a full recompute gives."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.models import Customer
from relationships import nightly
from relationships.models import (
    CustomerMetrics,
    ModelFit,
    NightlyRun,
    NightlyState,
    RelationshipStrategy,
    RiskFlag,
)
from relationships.services import risk_flag_handle
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    MembershipFactory,
    PurchaseFactory,
    SegmentFactory,
)

FULL = dt.date(2026, 6, 2)  # a full night covering June 1; the nights after it may be incremental

postgres_only = pytest.mark.postgres(reason="incremental nights need PostgreSQL")


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def buy(customer, when, amount="100.00"):
    return PurchaseFactory(customer=customer, amount=Decimal(amount), occurred_at=when)


@pytest.fixture(autouse=True)
def no_id_margin(settings):
    """A test book's ids are all within the production margin of the last watermark, and
    a few customers are a large share of it."""
    settings.CRM_NIGHTLY_ID_MARGIN = 0
    settings.CRM_INCREMENTAL_MAX_SHARE = 0.5


@pytest.fixture
def book(manager_a, manager_b):
    repeat = SegmentFactory(name="Subscribers")
    RelationshipStrategy.objects.create(
        segment=repeat, relationship_types=["long_term"], goal="retain", expected_gap_days=30
    )
    customers = {}
    # Monthly buyers whose last purchase is 10 to 85 days old: silence grows each night,
    # so some cross the risk threshold in the days after the full night.
    for k in range(16):
        c = CustomerFactory(
            name=f"Buyer {k}", segment=repeat, account_manager=manager_a if k % 2 else manager_b
        )
        last = FULL - dt.timedelta(days=10 + 5 * k)
        for m in range(8):
            buy(c, at(last - dt.timedelta(days=30 * m)))
        customers[k] = c
    InteractionFactory(
        customer=customers[3],
        author=manager_b,
        kind="complaint",
        occurred_at=at(FULL - dt.timedelta(days=28)),
    )
    MembershipFactory(
        customer=customers[4], balance=300, joined_at=at(FULL - dt.timedelta(days=200))
    )
    return customers


def quiet_since(moment: dt.datetime) -> None:
    """The book's customers were last edited before ``moment`` (factories stamp now)."""
    Customer.objects.update(updated_at=moment)


def full_night(day: dt.date) -> None:
    """A full night, after which the book's customers count as edited long before it."""
    nightly.nightly_run(run_date=day, mode="full")
    quiet_since(at(day - dt.timedelta(days=30)))


def metrics_of(customers) -> dict[int, dict]:
    skip = {"id", "customer_id"}
    return {
        r["customer_id"]: {k: v for k, v in r.items() if k not in skip}
        for r in CustomerMetrics.objects.filter(customer__in=customers).values()
    }


def open_flags() -> dict[int, tuple]:
    return {
        f.customer_id: (f.score, f.reasons, f.value_at_risk, f.raised_on)
        for f in RiskFlag.objects.filter(cleared_on__isnull=True)
    }


@postgres_only
def test_an_incremental_night_gives_what_a_full_recompute_gives(book, manager_b, settings):
    settings.CRM_RISK_THRESHOLD = 30  # Buyers 11-15 at the full night; Buyer 10 five days later
    full_night(FULL)
    night = FULL + dt.timedelta(days=5)
    # What happened since: a purchase, a complaint, one customer handed to another
    # manager, and (by itself) Buyer 3's complaint leaving the 30-day window.
    buy(book[14], at(night - dt.timedelta(days=1)), "75.00")
    InteractionFactory(
        customer=book[6],
        author=manager_b,
        kind="complaint",
        occurred_at=at(night - dt.timedelta(days=2)),
    )
    Customer.objects.filter(pk=book[9].pk).update(
        account_manager=manager_b, updated_at=timezone.now()
    )

    run = nightly.nightly_run(run_date=night)
    assert run.mode == "incremental", run.mode_reason
    assert "4 customers changed" in run.mode_reason
    assert run.rows["changed_customers"] == 4
    assert run.rows["retention"] == 0
    changed = [book[14], book[6], book[9], book[3]]
    incremental_metrics, incremental_flags = metrics_of(changed), open_flags()
    # Time alone moved other customers over the threshold tonight: flagged all the same.
    assert any(raised == night for *_, raised in incremental_flags.values())
    untouched = CustomerMetrics.objects.exclude(customer__in=changed).exclude(
        customer__in=incremental_flags
    )
    assert set(untouched.values_list("computed_for", flat=True)) == {FULL}

    full = nightly.nightly_run(run_date=night, mode="full")
    assert full.mode == "full"
    # Everything but what the purchase model predicts: the full night refits the model,
    # the incremental one reuses the last full night's (test_..._reuses_the_full_nights_model).
    predicted = {
        "expected_purchases_30d",
        "expected_purchases_90d",
        "expected_purchases_365d",
        "clv_12m",
        "value_at_risk",
    }
    recomputed = metrics_of(changed)
    assert recomputed.keys() == incremental_metrics.keys()
    for customer_id, row in recomputed.items():
        differ = {
            k: v
            for k, v in row.items()
            if k not in predicted and incremental_metrics[customer_id][k] != v
        }
        assert differ == {}, customer_id
    # The same customers flagged, since the same nights; the numbers agree for the ones
    # the incremental night wrote (the others carry their last full night's numbers).
    assert {k: v[3] for k, v in open_flags().items()} == {
        k: v[3] for k, v in incremental_flags.items()
    }
    written = {c.pk for c in changed} | {k for k, v in incremental_flags.items() if v[3] == night}
    for customer_id, (score, reasons, value, _) in open_flags().items():
        if customer_id in written:
            assert incremental_flags[customer_id][:2] == (score, reasons)
            assert incremental_flags[customer_id][2] == pytest.approx(value, abs=Decimal("0.02"))


@postgres_only
def test_a_flagged_customers_page_matches_the_queue_on_an_incremental_night(book, settings):
    settings.CRM_RISK_THRESHOLD = 30
    full_night(FULL)
    night = FULL + dt.timedelta(days=5)
    run = nightly.nightly_run(run_date=night)
    assert run.mode == "incremental", run.mode_reason

    flags = RiskFlag.objects.filter(cleared_on__isnull=True)
    assert {f.raised_on for f in flags} == {FULL, night}
    for flag in flags:
        metrics = CustomerMetrics.objects.get(customer_id=flag.customer_id)
        # Raised tonight: tonight's numbers; open since the full night: that night's.
        assert metrics.computed_for == (night if flag.raised_on == night else FULL)
        assert (metrics.risk_score, metrics.reasons, metrics.value_at_risk) == (
            flag.score,
            flag.reasons,
            flag.value_at_risk,
        )


@postgres_only
def test_an_incremental_night_reuses_the_full_nights_model(book):
    full_night(FULL)
    nightly.nightly_run(run_date=FULL + dt.timedelta(days=1))

    fitted, reused = (
        ModelFit.objects.get(run_date=FULL),
        ModelFit.objects.get(run_date=FULL + dt.timedelta(days=1)),
    )
    assert (reused.bgnbd_r, reused.bgnbd_alpha, reused.gg_p) == (
        fitted.bgnbd_r,
        fitted.bgnbd_alpha,
        fitted.gg_p,
    )
    assert f"full run of {FULL}" in reused.note


@postgres_only
def test_released_points_and_late_rows_are_found(book):
    full_night(FULL)
    # Points that became spendable since the last night (no new ledger row), and a
    # purchase entered today but dated before the last run's day.
    MembershipFactory(customer=book[5], balance=0, joined_at=at(FULL - dt.timedelta(days=300)))
    nightly.nightly_run(run_date=FULL + dt.timedelta(days=1), mode="full")
    quiet_since(at(FULL - dt.timedelta(days=30)))
    book[5].memberships.update(balance=120)
    buy(book[7], at(FULL - dt.timedelta(days=40)), "10.00")

    run = nightly.nightly_run(run_date=FULL + dt.timedelta(days=2))
    assert run.mode == "incremental", run.mode_reason
    assert run.rows["changed_customers"] == 2
    assert CustomerMetrics.objects.get(customer=book[5]).points_unused_since is not None
    assert CustomerMetrics.objects.get(customer=book[7]).purchase_count == 9


@postgres_only
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("week", "a full run is due every 7 days"),
        ("month", "a new month"),
        ("strategy", "strategies or thresholds changed"),
        ("many", "of the book changed"),
    ],
)
def test_auto_runs_in_full_and_says_why(book, change, reason, settings):
    settings.CRM_INCREMENTAL_MAX_SHARE = 0.1
    base = dt.date(2026, 6, 28) if change == "month" else FULL
    full_night(base)
    night = base + dt.timedelta(days=2)
    if change == "week":
        night = base + dt.timedelta(days=7)
    elif change == "month":
        night = dt.date(2026, 7, 2)  # the first night with July's data
    elif change == "strategy":
        RelationshipStrategy.objects.update(expected_gap_days=45)
    else:
        for k in range(3):
            buy(book[k], at(night - dt.timedelta(days=1)))

    run = nightly.nightly_run(run_date=night)
    assert run.mode == "full"
    assert reason in run.mode_reason
    assert run.rows["retention"] > 0


def test_asking_for_an_impossible_incremental_night_is_a_one_line_error_and_runs_nothing(book):
    with pytest.raises(CommandError, match="An incremental night is not possible: "):
        call_command("run_nightly", "--date", FULL.isoformat(), "--mode", "incremental")
    assert not NightlyRun.objects.exists()
    assert not CustomerMetrics.objects.exists()


def test_an_unknown_mode_is_refused(db):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("run_nightly", "--mode", "sometimes")


@postgres_only
def test_customers_added_or_deleted_since_are_scored_or_dropped(book, manager_a):
    prospect = CustomerFactory(
        name="Prospect", stage="prospect", segment=book[0].segment, account_manager=manager_a
    )
    full_night(FULL)
    prospect.delete()  # (customers with purchases cannot be deleted)
    newcomer = CustomerFactory(name="Newcomer", segment=book[0].segment, account_manager=manager_a)
    buy(newcomer, at(FULL + dt.timedelta(days=1)), "300.00")

    run = nightly.nightly_run(run_date=FULL + dt.timedelta(days=3))
    assert run.mode == "incremental", run.mode_reason
    assert run.rows["changed_customers"] == 2  # the newcomer, and Buyer 3's complaint ageing out
    metrics = CustomerMetrics.objects.get(customer=newcomer)
    assert (metrics.purchase_count, metrics.revenue) == (1, Decimal("300.00"))
    assert CustomerMetrics.objects.count() == 17  # 16 buyers and the newcomer; the prospect is gone
    # Only the latest night's summaries are kept.
    assert list(NightlyState.objects.values_list("run__run_date", flat=True)) == [
        FULL + dt.timedelta(days=3)
    ]


@postgres_only
def test_a_row_committed_after_the_watermark_with_a_lower_id_is_found(book, settings):
    from customers.models import AccountManagerAssignment, Purchase
    from loyalty.models import LedgerEntry
    from relationships.models import Interaction

    settings.CRM_NIGHTLY_ID_MARGIN = 10_000
    full_night(FULL)
    long_ago = at(FULL - dt.timedelta(days=40))
    for model, stamp in (
        (Purchase, "created_at"),
        (Interaction, "created_at"),
        (LedgerEntry, "created_at"),
        (AccountManagerAssignment, "started_at"),
    ):
        model.objects.update(**{stamp: long_ago})  # entered well before the night
    late = buy(book[8], at(FULL - dt.timedelta(days=50)), "10.00")  # backdated, entered now
    # Its id was drawn before the night's watermark was taken; it committed after.
    run = NightlyRun.objects.get(run_date=FULL)
    run.rows["watermarks"]["purchase"] = late.pk
    run.save()

    night = nightly.nightly_run(run_date=FULL + dt.timedelta(days=1))
    assert night.mode == "incremental", night.mode_reason
    assert night.rows["changed_customers"] == 1  # the rows of the margin entered long ago are not
    assert CustomerMetrics.objects.get(customer=book[8]).purchase_count == 9


@postgres_only
def test_customers_saved_without_a_change_the_night_reads_do_not_count_as_changed(book, manager_a):
    # A book seeded or imported minutes before the full night: every customer's time
    # stamp falls within the edit margin of that night.
    nightly.nightly_run(run_date=FULL, mode="full")
    Customer.objects.update(updated_at=timezone.now())  # saved again, nothing changed
    Customer.objects.filter(pk=book[2].pk).update(
        account_manager=manager_a if book[2].account_manager_id != manager_a.pk else None
    )
    Customer.objects.filter(pk=book[5].pk).update(name="Renamed, which the night ignores")

    run = nightly.nightly_run(run_date=FULL + dt.timedelta(days=1), mode="incremental")

    assert "1 customers changed" in run.mode_reason
    assert run.rows["changed_customers"] == 1


@postgres_only
def test_an_incremental_night_reraises_and_clears_handled_flags_as_a_full_one(
    book, admin_user, settings
):
    settings.CRM_RISK_THRESHOLD = 30
    full_night(FULL)
    night = FULL + dt.timedelta(days=5)
    still, recovers = RiskFlag.objects.filter(cleared_on__isnull=True).order_by("customer_id")[:2]
    for flag in (still, recovers):
        risk_flag_handle(actor=admin_user, flag=flag, note="Called them")
    RiskFlag.objects.filter(pk__in=[still.pk, recovers.pk]).update(
        handled_at=at(night - dt.timedelta(days=2))
    )
    # One handled customer buys again; the other has nothing new, so an incremental night
    # does not aggregate them again and must still find them at risk.
    buy(recovers.customer, at(night - dt.timedelta(days=1)), "100.00")

    def handled_state():
        return {
            f.pk: (f.cleared_on, f.reraised_on, f.handled)
            for f in RiskFlag.objects.filter(pk__in=[still.pk, recovers.pk])
        }

    run = nightly.nightly_run(run_date=night)
    assert run.mode == "incremental", run.mode_reason
    assert run.rows["flags_reraised"] == 1
    incremental = handled_state()
    assert incremental == {
        still.pk: (None, night, False),
        recovers.pk: (night, None, True),
    }
    nightly.nightly_run(run_date=night, mode="full")
    assert handled_state() == incremental
