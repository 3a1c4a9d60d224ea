"""Spending points: redeeming rewards (codes, stock, limits), cancelling and fulfilling
redemptions. Offers are in offers.py."""

from __future__ import annotations

import secrets

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.formatting import number
from customers.models import User

from ..errors import InsufficientPoints, OutOfStock
from ..models import (
    EntryKind,
    Membership,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardCode,
)
from ._common import check_member_or_staff, check_staff_for, clean_key, local_today
from .ledger import credit, debit, lock_membership


def _new_code(reward: Reward) -> str:
    pooled = (
        RewardCode.objects.select_for_update(
            skip_locked=connection.features.has_select_for_update_skip_locked
        )
        .filter(reward=reward, used=False)
        .order_by("id")
        .first()
    )
    if pooled is not None:
        RewardCode.objects.filter(pk=pooled.pk).update(used=True)
        return pooled.code
    if RewardCode.objects.filter(reward=reward).exists():
        raise OutOfStock(f"The code pool of {reward.name} is empty.")
    return "RW-" + secrets.token_hex(5).upper()


@transaction.atomic
def points_redeem(
    *, membership: Membership, reward: Reward, actor: User, idempotency_key: str
) -> Redemption:
    """Spend points on a reward. The membership row is locked first, so concurrent requests
    queue and the balance is checked against the committed figure; the same key twice
    returns the first redemption."""
    key = clean_key(idempotency_key)
    check_member_or_staff(actor, membership.customer)
    locked = lock_membership(membership)
    done = Redemption.objects.filter(membership=locked, idempotency_key=key).first()
    if done is not None:
        return done
    day = local_today()
    if reward.program_id != locked.program_id:
        raise ValidationFailed("This reward belongs to another program.", field="reward")
    if not reward.is_active or not reward.is_valid_on(day):
        raise ValidationFailed(f"{reward.name} cannot be redeemed today.", field="reward")
    allowed = list(reward.tiers.all())
    if allowed and locked.tier not in allowed:
        raise NotAllowed(
            f"{reward.name} is for {', '.join(t.name for t in allowed)} members.", field="reward"
        )
    if reward.per_customer_limit is not None:
        used = (
            Redemption.objects.filter(membership=locked, reward=reward)
            .exclude(status=RedemptionStatus.CANCELLED)
            .count()
        )
        if used >= reward.per_customer_limit:
            raise Conflict(
                f"{reward.name} can be redeemed {reward.per_customer_limit} time(s) per customer.",
                field="reward",
            )
    if locked.balance < reward.cost:
        raise InsufficientPoints(
            f"Not enough {locked.program.points_name}: {number(locked.balance)} available, "
            f"{number(reward.cost)} needed.",
            field="reward",
        )
    if reward.stock is not None and not Reward.objects.filter(pk=reward.pk, stock__gt=0).update(
        stock=F("stock") - 1
    ):
        raise OutOfStock(f"{reward.name} is out of stock.", field="reward")
    redemption = Redemption.objects.create(
        membership=locked,
        reward=reward,
        code=_new_code(reward),
        points=reward.cost,
        idempotency_key=key,
        actor=actor if actor.is_authenticated else None,
    )
    debit(
        membership=locked,
        points=reward.cost,
        kind=EntryKind.REDEEM,
        key=f"redeem:{redemption.pk}",
        reason=f"Redeemed {reward.name} ({redemption.code}).",
        redemption=redemption,
        actor=redemption.actor,
    )
    membership.balance = locked.balance
    return redemption


@transaction.atomic
def redemption_cancel(*, redemption: Redemption, actor: User, reason: str = "") -> Redemption:
    """Cancel an issued redemption: the points come back as a new lot, the stock too."""
    check_member_or_staff(actor, redemption.membership.customer)
    locked = lock_membership(redemption.membership)
    current = Redemption.objects.select_for_update().get(pk=redemption.pk)
    if current.status != RedemptionStatus.ISSUED:
        raise Conflict(f"Redemption {current.code} is {current.get_status_display().lower()}.")
    current.status = RedemptionStatus.CANCELLED
    current.cancelled_at = timezone.now()
    current.save(update_fields=["status", "cancelled_at"])
    credit(
        membership=locked,
        points=current.points,
        kind=EntryKind.REVERSE,
        key=f"cancel:{current.pk}",
        earned_on=local_today(),
        reason=(reason or "").strip() or f"Redemption {current.code} cancelled.",
        pending=False,
        redemption=current,
        actor=actor,
    )
    Reward.objects.filter(pk=current.reward_id, stock__isnull=False).update(stock=F("stock") + 1)
    return current


@transaction.atomic
def redemption_fulfil(*, redemption: Redemption, actor: User) -> Redemption:
    check_staff_for(actor, redemption.membership.customer)
    current = Redemption.objects.select_for_update().get(pk=redemption.pk)
    if current.status != RedemptionStatus.ISSUED:
        raise Conflict(f"Redemption {current.code} is {current.get_status_display().lower()}.")
    current.status = RedemptionStatus.FULFILLED
    current.fulfilled_at = timezone.now()
    current.save(update_fields=["status", "fulfilled_at"])
    return current
