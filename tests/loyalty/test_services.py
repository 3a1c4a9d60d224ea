import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.services import purchase_record
from loyalty.errors import InsufficientPoints, OutOfStock
from loyalty.models import AppendOnly, LedgerEntry, Membership, RedemptionStatus, TierChange
from loyalty.selectors import ledger_drift
from loyalty.services import (
    earn_missing_for_purchases,
    membership_join,
    nightly_step_run,
    points_adjust,
    points_earn_for_event,
    points_redeem,
    points_reverse_for_purchase,
    redemption_cancel,
)
from tests.factories import (
    CustomerFactory,
    EarningRuleFactory,
    MembershipFactory,
    ProgramFactory,
    RewardFactory,
    SegmentFactory,
    TierFactory,
)


def _buy(customer, ref, amount="100.00", category="hardware", when=None):
    return purchase_record(
        customer=customer,
        reference=ref,
        amount=Decimal(amount),
        occurred_at=when or timezone.now(),
        category=category,
    )


def _balance(m):
    m.refresh_from_db()
    return m.balance


def test_first_purchase_joins_and_earns_once(program, customer_a):
    purchase = _buy(customer_a, "INV-1", "120.50")
    membership = Membership.objects.get(customer=customer_a, program=program)
    assert membership.join_source == "purchase"
    assert membership.balance == 120
    # The same purchase recorded twice is refused and earns nothing more.
    with pytest.raises(Conflict):
        _buy(customer_a, "INV-1", "120.50")
    # The earning run (a retried task) over the same purchase earns nothing more.
    from customers.models import Purchase

    earn_missing_for_purchases(purchases=Purchase.objects.filter(pk=purchase.pk))
    earn_missing_for_purchases(purchases=Purchase.objects.filter(pk=purchase.pk))
    assert _balance(membership) == 120
    assert LedgerEntry.objects.filter(purchase=purchase).count() == 1


def test_idempotency_key_is_unique_in_the_database(funded):
    entry = funded.entries.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            membership=funded,
            kind="earn",
            points=5,
            remaining=5,
            idempotency_key=entry.idempotency_key,
        )


def test_ledger_is_append_only(funded):
    entry = funded.entries.first()
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()


def test_rules_in_priority_order_with_exclusions_multipliers_and_caps(program, customer_a):
    gold = TierFactory(program=program, name="Gold", threshold=0, multiplier=Decimal("2"))
    EarningRuleFactory(
        program=program, priority=1, kind="per_money", excluded_categories="gift cards"
    )
    EarningRuleFactory(
        program=program,
        priority=2,
        kind="multiplier",
        multiplier=Decimal("1.5"),
        category="hardware",
    )
    base = program.rules.get(priority=1)
    base.cap_per_day = 500
    base.save()
    _buy(customer_a, "A", "100", "hardware")  # 100 x2 gold x1.5 hardware = 300
    membership = Membership.objects.get(customer=customer_a)
    assert membership.tier == gold
    assert membership.balance == 300
    entry = membership.entries.get(purchase__reference="A")
    assert "#1" in entry.reason
    assert "#2" in entry.reason
    _buy(customer_a, "B", "100", "gift cards")  # excluded
    assert _balance(membership) == 300
    _buy(customer_a, "C", "100", "hardware")  # would be 300, capped at 500 a day
    assert _balance(membership) == 500
    assert "capped" in membership.entries.get(purchase__reference="C").reason


def test_other_currency_earns_nothing(program, customer_a):
    purchase_record(
        customer=customer_a,
        reference="USD-1",
        amount="50",
        currency="USD",
        occurred_at=timezone.now(),
    )
    assert Membership.objects.get(customer=customer_a).balance == 0


def test_segment_not_eligible_cannot_join(admin_user, customer_a):
    program = ProgramFactory(name="VIP only")
    program.eligible_segments.set([SegmentFactory(name="VIP")])
    with pytest.raises(ValidationFailed, match="may not join"):
        membership_join(program=program, customer=customer_a, actor=admin_user)
    _buy(customer_a, "X1")
    assert not Membership.objects.filter(program=program).exists()


def test_join_twice_is_a_conflict(program, customer_a, manager_a):
    membership_join(program=program, customer=customer_a, actor=manager_a)
    with pytest.raises(Conflict):
        membership_join(program=program, customer=customer_a, actor=manager_a)


def test_events_earn_once_per_key(program, membership_a):
    EarningRuleFactory(program=program, priority=1, kind="event", event_code="review", points=50)
    points_earn_for_event(
        customer=membership_a.customer, event_code="review", idempotency_key="r-1"
    )
    points_earn_for_event(
        customer=membership_a.customer, event_code="review", idempotency_key="r-1"
    )
    points_earn_for_event(
        customer=membership_a.customer, event_code="unknown_code", idempotency_key="x"
    )
    assert _balance(membership_a) == 50
    with pytest.raises(ValidationFailed):
        points_earn_for_event(
            customer=membership_a.customer, event_code="no spaces!", idempotency_key="x"
        )


def test_events_skip_category_multipliers_purchases_apply_them(program, membership_a):
    """An event has no purchase category: a multiplier limited to a category never applies
    to it; a multiplier without a category does, as for purchases."""
    EarningRuleFactory(program=program, priority=1, kind="event", event_code="review", points=100)
    EarningRuleFactory(
        program=program, priority=2, kind="multiplier", multiplier=Decimal("2"), category="hardware"
    )
    EarningRuleFactory(program=program, priority=3, kind="multiplier", multiplier=Decimal("1.5"))
    (entry,) = points_earn_for_event(
        customer=membership_a.customer, event_code="review", idempotency_key="r-1"
    )
    assert entry.points == 150  # 100 x 1.5; the hardware x 2 is skipped
    assert "#2" not in entry.reason
    assert "#3" in entry.reason
    _buy(membership_a.customer, "H1", "100", "hardware")
    assert membership_a.entries.get(purchase__reference="H1").points == 300  # 100 x 2 x 1.5


def test_adjust_needs_reason_and_scope(membership_a, manager_a, manager_b):
    with pytest.raises(ValidationFailed, match="why"):
        points_adjust(membership=membership_a, points=10, reason=" ", actor=manager_a)
    with pytest.raises(NotAllowed):
        points_adjust(membership=membership_a, points=10, reason="Nice", actor=manager_b)
    with pytest.raises(ValidationFailed):
        points_adjust(membership=membership_a, points=0, reason="Nothing", actor=manager_a)
    entry = points_adjust(membership=membership_a, points=10, reason="Goodwill", actor=manager_a)
    assert entry.actor == manager_a
    assert entry.reason == "Goodwill"
    with pytest.raises(InsufficientPoints):
        points_adjust(membership=membership_a, points=-11, reason="Too much", actor=manager_a)
    assert _balance(membership_a) == 10


def test_redeem_consumes_oldest_first_and_cancel_refunds(funded, manager_a, program):
    points_adjust(membership=funded, points=500, reason="Second lot", actor=manager_a)
    reward = RewardFactory(program=program, cost=1200, stock=3)
    redemption = points_redeem(
        membership=funded, reward=reward, actor=manager_a, idempotency_key="k1"
    )
    again = points_redeem(membership=funded, reward=reward, actor=manager_a, idempotency_key="k1")
    assert again.pk == redemption.pk
    assert redemption.code.startswith("RW-")
    lots = list(funded.entries.filter(kind="adjust").order_by("id"))
    assert [lot.remaining for lot in lots] == [0, 300]
    assert _balance(funded) == 300
    reward.refresh_from_db()
    assert reward.stock == 2
    redemption_cancel(redemption=redemption, actor=manager_a)
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert _balance(funded) == 1500
    with pytest.raises(Conflict):
        redemption_cancel(redemption=redemption, actor=manager_a)
    assert not ledger_drift().exists()


def test_redeem_refusals(funded, manager_a, manager_b, program, customer_user):
    gold = TierFactory(program=program, name="Gold", threshold=5000)
    cheap = RewardFactory(program=program, name="Mug", cost=10, per_customer_limit=1, stock=5)
    points_redeem(membership=funded, reward=cheap, actor=manager_a, idempotency_key="a")
    with pytest.raises(Conflict, match="per customer"):
        points_redeem(membership=funded, reward=cheap, actor=manager_a, idempotency_key="b")
    gold_only = RewardFactory(program=program, name="Lounge", cost=10)
    gold_only.tiers.set([gold])
    with pytest.raises(NotAllowed, match="Gold"):
        points_redeem(membership=funded, reward=gold_only, actor=manager_a, idempotency_key="c")
    empty = RewardFactory(program=program, name="Rare", cost=10, stock=0)
    with pytest.raises(OutOfStock):
        points_redeem(membership=funded, reward=empty, actor=manager_a, idempotency_key="d")
    pricey = RewardFactory(program=program, name="Car", cost=10_000)
    with pytest.raises(InsufficientPoints):
        points_redeem(membership=funded, reward=pricey, actor=manager_a, idempotency_key="e")
    with pytest.raises(NotAllowed):
        points_redeem(membership=funded, reward=cheap, actor=manager_b, idempotency_key="f")
    with pytest.raises(NotAllowed):
        points_redeem(membership=funded, reward=cheap, actor=customer_user, idempotency_key="g")
    with pytest.raises(ValidationFailed):
        points_redeem(membership=funded, reward=cheap, actor=manager_a, idempotency_key=" ")
    assert _balance(funded) == 990


def test_customer_redeems_own_points(funded, customer_user, program):
    customer = funded.customer
    customer.user = customer_user
    customer.save()
    reward = RewardFactory(program=program, cost=100)
    redemption = points_redeem(
        membership=funded, reward=reward, actor=customer_user, idempotency_key="p1"
    )
    assert redemption.actor == customer_user
    assert _balance(funded) == 900


def test_reward_code_pool_is_used_first(funded, manager_a, program):
    from loyalty.models import RewardCode

    reward = RewardFactory(program=program, cost=10)
    RewardCode.objects.create(reward=reward, code="PARTNER-1")
    first = points_redeem(membership=funded, reward=reward, actor=manager_a, idempotency_key="1")
    assert first.code == "PARTNER-1"
    with pytest.raises(OutOfStock, match="pool"):
        points_redeem(membership=funded, reward=reward, actor=manager_a, idempotency_key="2")
    assert _balance(funded) == 990


def test_refund_reverses_unspent_points(program, customer_a, manager_a, manager_b):
    purchase = _buy(customer_a, "R-1", "300")
    membership = Membership.objects.get(customer=customer_a)
    reward = RewardFactory(program=program, cost=100)
    points_redeem(membership=membership, reward=reward, actor=manager_a, idempotency_key="x")
    with pytest.raises(NotAllowed):
        points_reverse_for_purchase(purchase=purchase, actor=manager_b)
    reversals = points_reverse_for_purchase(purchase=purchase, actor=manager_a)
    points_reverse_for_purchase(purchase=purchase, actor=manager_a)
    assert [r.points for r in reversals] == [-200]
    assert "100 of its points were already spent" in reversals[0].reason
    assert _balance(membership) == 0
    assert not ledger_drift().exists()


def test_pending_points_release_then_expire_once(customer_a, manager_a):
    program = ProgramFactory(
        name="Pending", pending_days=14, expiry_policy="months", expiry_months=12
    )
    bought_on = timezone.now() - dt.timedelta(days=5)
    purchase = _buy(customer_a, "P-1", "80", when=bought_on)
    membership = Membership.objects.get(customer=customer_a, program=program)
    assert (membership.balance, membership.pending_points) == (0, 80)
    lot = membership.entries.get(purchase=purchase)
    release_day = lot.pending_until
    nightly_step_run(step="expire", run_date=release_day)
    membership.refresh_from_db()
    assert (membership.balance, membership.pending_points) == (80, 0)
    expiry_day = lot.expires_on
    first = nightly_step_run(step="expire", run_date=expiry_day)
    second = nightly_step_run(step="expire", run_date=expiry_day)
    assert (first.status, first.rows) == ("succeeded", 1)
    assert second.status == "skipped"
    # Even a forced re-run of the step itself expires nothing more.
    from loyalty.services import points_release_and_expire

    assert points_release_and_expire(run_date=expiry_day) == 0
    assert _balance(membership) == 0
    assert membership.entries.filter(kind="expire").count() == 1
    assert not ledger_drift().exists()


def test_pending_purchase_refund_nets_to_zero(customer_a, manager_a):
    program = ProgramFactory(name="Pending2", pending_days=30)
    purchase = _buy(customer_a, "P-2", "50")
    membership = Membership.objects.get(program=program)
    points_reverse_for_purchase(purchase=purchase, actor=manager_a)
    assert points_reverse_for_purchase(purchase=purchase, actor=manager_a) == []  # a retried refund
    membership.refresh_from_db()
    assert membership.pending_points == 0
    nightly_step_run(step="expire", run_date=timezone.localdate() + dt.timedelta(days=31))
    assert _balance(membership) == 0
    assert not ledger_drift().exists()


def test_end_of_year_expiry(customer_a):
    program = ProgramFactory(name="Yearly", expiry_policy="end_of_year")
    _buy(customer_a, "Y-1", "40")
    membership = Membership.objects.get(program=program)
    year = timezone.localdate().year
    nightly_step_run(step="expire", run_date=dt.date(year, 12, 31))
    assert _balance(membership) == 40
    nightly_step_run(step="expire", run_date=dt.date(year + 1, 1, 1))
    assert _balance(membership) == 0


def test_tier_upgrade_at_once_and_downgrade_by_policy(program, customer_a, manager_a):
    program.downgrade_policy = "end_of_window"
    program.qualification_days = 30
    program.save()
    base = TierFactory(program=program, name="Base", threshold=0)
    silver = TierFactory(program=program, name="Silver", threshold=100, multiplier=Decimal("1.2"))
    _buy(customer_a, "T-1", "150")
    membership = Membership.objects.get(program=program)
    assert membership.tier == silver
    assert TierChange.objects.filter(membership=membership, to_tier=silver).exists()
    later = timezone.localdate() + dt.timedelta(days=40)
    run = nightly_step_run(step="tiers", run_date=later)
    nightly_step_run(step="tiers", run_date=later)
    membership.refresh_from_db()
    assert run.rows == 1
    assert membership.tier == base
    change = membership.tier_changes.order_by("-id").first()
    assert change.to_tier == base
    assert "below the threshold" in change.reason


def test_never_downgrade_policy_keeps_tier(program, customer_a):
    program.downgrade_policy = "never"
    program.qualification_days = 30
    program.save()
    TierFactory(program=program, name="Base", threshold=0)
    silver = TierFactory(program=program, name="Silver", threshold=100)
    _buy(customer_a, "T-2", "150")
    nightly_step_run(step="tiers", run_date=timezone.localdate() + dt.timedelta(days=90))
    assert Membership.objects.get(program=program).tier == silver


def test_spend_basis_and_nightly_upgrade(customer_a):
    program = ProgramFactory(name="Spend", tier_basis="spend", points_per_unit=Decimal("0"))
    silver = TierFactory(program=program, name="Silver", threshold=200)
    membership = MembershipFactory(program=program, customer=customer_a)
    purchase_record(customer=customer_a, reference="S-1", amount="250", occurred_at=timezone.now())
    membership.refresh_from_db()
    assert membership.tier == silver


def test_failed_step_is_recorded(db, monkeypatch):
    from loyalty import services
    from loyalty.models import LoyaltyRun

    def boom(*, run_date):
        raise RuntimeError("disk full")

    monkeypatch.setitem(services.STEPS, "expire", boom)
    with pytest.raises(RuntimeError):
        nightly_step_run(step="expire", run_date=dt.date(2026, 1, 1))
    run = LoyaltyRun.objects.get()
    assert run.status == "failed"
    assert "disk full" in run.error
    with pytest.raises(ValidationFailed):
        nightly_step_run(step="nonsense", run_date=dt.date(2026, 1, 1))


def test_balance_constraint_refuses_negative(membership_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=membership_a.pk).update(balance=-1)


def test_unrelated_customer_purchase_does_not_touch_others(program, customer_a, customer_b):
    _buy(customer_a, "U-1", "10")
    _buy(customer_b, "U-1", "20")
    assert Membership.objects.get(customer=customer_a).balance == 10
    assert Membership.objects.get(customer=customer_b).balance == 20
    assert CustomerFactory  # factories importable for other tests


def test_backfill_earns_history_once_and_balances_match(
    admin_user, manager_a, customer_a, customer_b
):
    from customers.models import Purchase
    from loyalty.services import lot_dates, points_backfill
    from tests.factories import PurchaseFactory

    old = timezone.now() - dt.timedelta(days=400)
    PurchaseFactory(customer=customer_a, amount=Decimal("99.90"), occurred_at=old)
    PurchaseFactory(customer=customer_a, amount=Decimal("10.00"), category="gift cards")
    PurchaseFactory(customer=customer_b, amount=Decimal("20.00"), currency="USD")
    assert Purchase.objects.count() == 3
    program = ProgramFactory(
        name="Later", expiry_policy="months", expiry_months=12, pending_days=30
    )
    entry_tier = TierFactory(program=program, name="Entry", threshold=0)
    EarningRuleFactory(program=program, priority=1, excluded_categories="gift cards")
    with pytest.raises(NotAllowed):
        points_backfill(program=program, actor=manager_a)
    assert points_backfill(program=program, actor=admin_user) == 1
    assert points_backfill(program=program, actor=admin_user) == 0
    membership = Membership.objects.get(program=program, customer=customer_a)
    lot = membership.entries.get()
    assert lot.points == 99
    assert lot.pending_until is None  # earned long ago
    assert lot.expires_on == lot_dates(program, timezone.localdate(old))[1]
    assert membership.balance == 99
    assert membership.tier == entry_tier
    assert not Membership.objects.filter(program=program, customer=customer_b).exists()
    assert not ledger_drift().exists()
    nightly_step_run(step="expire", run_date=timezone.localdate())
    assert _balance(membership) == 0


def test_enrol_by_rule_takes_eligible_segments_once(admin_user, manager_a):
    from loyalty.services import program_enrol_eligible

    vip = SegmentFactory(name="VIP")
    inside = CustomerFactory(segment=vip)
    CustomerFactory(segment=vip, status="defected")
    CustomerFactory()
    program = ProgramFactory(name="VIP club")
    program.eligible_segments.set([vip])
    base = TierFactory(program=program, name="Base", threshold=0)
    with pytest.raises(NotAllowed):
        program_enrol_eligible(program=program, actor=manager_a)
    assert program_enrol_eligible(program=program, actor=admin_user) == 1
    assert program_enrol_eligible(program=program, actor=admin_user) == 0
    membership = Membership.objects.get(program=program)
    assert membership.customer == inside
    assert membership.tier == base
    assert membership.join_source == "rule"


def test_grace_period_downgrade_waits_for_the_grace_days(customer_a):
    program = ProgramFactory(
        name="Grace", downgrade_policy="grace_period", grace_days=10, qualification_days=30
    )
    base = TierFactory(program=program, name="Base", threshold=0)
    silver = TierFactory(program=program, name="Silver", threshold=100)
    _buy(customer_a, "G-1", "150")
    membership = Membership.objects.get(program=program)
    assert membership.tier == silver
    below = timezone.localdate() + dt.timedelta(days=40)
    nightly_step_run(step="tiers", run_date=below)
    membership.refresh_from_db()
    assert membership.tier == silver
    assert membership.below_tier_since == below
    nightly_step_run(step="tiers", run_date=below + dt.timedelta(days=5))
    membership.refresh_from_db()
    assert membership.tier == silver
    nightly_step_run(step="tiers", run_date=below + dt.timedelta(days=10))
    membership.refresh_from_db()
    assert membership.tier == base
    assert membership.below_tier_since is None


def test_offer_targeting_and_retention(customer_a, manager_a, manager_b):
    from loyalty.models import Offer
    from loyalty.selectors import offers_for_customer, with_retention
    from loyalty.services import offer_redeem

    _buy(customer_a, "O-1", "10", category="printers")
    gold_only = Offer.objects.create(
        name="Gold", coupon_code="G", tier=TierFactory(name="Gold", threshold=1)
    )
    ink = Offer.objects.create(
        name="Ink",
        coupon_code="INK",
        bought_category="Printers",
        not_bought_category="ink",
        usage_limit=5,
    )
    assert list(offers_for_customer(customer=customer_a)) == [ink]
    assert gold_only not in offers_for_customer(customer=customer_a)
    with pytest.raises(NotAllowed):
        offer_redeem(offer=ink, customer=customer_a, actor=manager_b)
    used = offer_redeem(offer=ink, customer=customer_a, actor=manager_a)
    with pytest.raises(Conflict, match="used up"):
        offer_redeem(offer=ink, customer=customer_a, actor=manager_a)
    assert not with_retention(ink.redemptions.all()).get(pk=used.pk).bought_again
    _buy(customer_a, "O-2", "10", category="ink", when=timezone.now() + dt.timedelta(seconds=5))
    assert with_retention(ink.redemptions.all()).get(pk=used.pk).bought_again
