"""Races on PostgreSQL: row locks are what keep points from being double-spent."""

import uuid

import pytest

from customers.errors import ApplicationError
from loyalty.models import LedgerEntry, Membership, Offer, OfferGrant, Redemption
from loyalty.selectors import ledger_drift
from loyalty.services import offer_grant, points_adjust, points_redeem
from tests.concurrency.together import run_n_together
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    ProgramFactory,
    RewardFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.postgres(
        reason="row locks need PostgreSQL; SQLite serialises writers, so there is no race to test"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_fifty_concurrent_redemptions_against_a_balance_for_ten():
    manager = UserFactory(username="race-manager", role="account_manager")
    program = ProgramFactory(name="Race club")
    membership = MembershipFactory(
        program=program, customer=CustomerFactory(account_manager=manager)
    )
    points_adjust(membership=membership, points=1000, reason="Race stake", actor=manager)
    reward = RewardFactory(program=program, cost=100)

    def redeem(i):
        m = Membership.objects.get(pk=membership.pk)
        return points_redeem(
            membership=m, reward=reward, actor=manager, idempotency_key=f"race-{i}"
        )

    results = run_n_together(50, redeem)
    won = [r for r in results if isinstance(r, Redemption)]
    lost = [r for r in results if isinstance(r, ApplicationError)]
    assert len(won) == 10
    assert len(lost) == 40
    assert all(r.status_code == 409 for r in lost)
    membership.refresh_from_db()
    assert membership.balance == 0
    assert LedgerEntry.objects.filter(membership=membership, kind="redeem").count() == 10
    assert not ledger_drift().exists()


def test_same_request_retried_concurrently_redeems_once():
    manager = UserFactory(username="retry-manager", role="account_manager")
    program = ProgramFactory(name="Retry club")
    membership = MembershipFactory(
        program=program, customer=CustomerFactory(account_manager=manager)
    )
    points_adjust(membership=membership, points=1000, reason="Stake", actor=manager)
    reward = RewardFactory(program=program, cost=100)
    key = uuid.uuid4().hex

    results = run_n_together(
        10,
        lambda i: points_redeem(
            membership=Membership.objects.get(pk=membership.pk),
            reward=reward,
            actor=manager,
            idempotency_key=key,
        ),
    )
    assert len({r.pk for r in results}) == 1
    membership.refresh_from_db()
    assert membership.balance == 900


def test_concurrent_limited_stock_never_oversold():
    manager = UserFactory(username="stock-manager", role="account_manager")
    program = ProgramFactory(name="Stock club")
    reward = RewardFactory(program=program, cost=10, stock=5)
    memberships = []
    for _ in range(12):
        m = MembershipFactory(program=program, customer=CustomerFactory(account_manager=manager))
        points_adjust(membership=m, points=100, reason="Stake", actor=manager)
        memberships.append(m)

    results = run_n_together(
        12,
        lambda i: points_redeem(
            membership=memberships[i], reward=reward, actor=manager, idempotency_key="s"
        ),
    )
    assert sum(isinstance(r, Redemption) for r in results) == 5
    reward.refresh_from_db()
    assert reward.stock == 0


def test_first_purchases_recorded_concurrently_join_once_and_all_earn():
    from django.utils import timezone

    from customers.services import purchase_record

    program = ProgramFactory(name="Join race")
    customer = CustomerFactory()
    results = run_n_together(
        8,
        lambda i: purchase_record(
            customer=customer, reference=f"RACE-{i}", amount="10", occurred_at=timezone.now()
        ),
    )
    assert len(results) == 8
    assert not [r for r in results if isinstance(r, Exception)]
    membership = Membership.objects.get(program=program, customer=customer)
    assert membership.balance == 80
    assert not ledger_drift().exists()


def test_concurrent_hand_outs_of_one_offer_make_one_record():
    manager = UserFactory(username="race-giver", role="account_manager")
    customer = CustomerFactory(account_manager=manager)
    offer = Offer.objects.create(name="Race offer", coupon_code="RACE")

    results = run_n_together(
        8, lambda i: offer_grant(offer=offer, customer=customer, actor=manager)
    )

    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(created for _grant, created in results) == [False] * 7 + [True]
    assert {grant.pk for grant, _created in results} == {OfferGrant.objects.get().pk}
