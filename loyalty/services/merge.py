"""Two customers merged (customers.hooks): their memberships become one per program.

A membership the survivor lacks simply changes customer. Where both are members of the
same program, the two memberships are locked in pk order and combined: the absorbed
membership's ledger entries, redemptions and tier history move to the survivor's (the
entries themselves are unchanged, so every lot keeps its points, dates and expiry), the
balances and pending points add up, and the higher of the two tiers is kept. Points
totals are therefore the same before and after.
"""

from __future__ import annotations

from typing import Any

from customers.hooks import MergeContext

from ..models import LedgerEntry, Membership, Redemption, TierChange
from .ledger import lock_memberships

MEMBERSHIPS = "Loyalty memberships"


def memberships_merge(context: MergeContext) -> None:
    absorbed = list(Membership.objects.filter(customer=context.absorbed).order_by("pk"))
    if not absorbed:
        return
    kept = {
        m.program_id: m.pk
        for m in Membership.objects.filter(
            customer=context.survivor, program__in=[m.program_id for m in absorbed]
        )
    }
    alone = [m.pk for m in absorbed if m.program_id not in kept]
    context.moved[MEMBERSHIPS] += Membership.objects.filter(pk__in=alone).update(
        customer=context.survivor
    )
    pairs = [(kept[m.program_id], m.pk) for m in absorbed if m.program_id in kept]
    if not pairs:
        return
    locked = lock_memberships(pk for pair in pairs for pk in pair)
    for keep_pk, gone_pk in pairs:
        _combine(context, locked[keep_pk], locked[gone_pk])


def _rekey(model: type[LedgerEntry] | type[Redemption], keep: Membership, gone: Membership) -> None:
    keys = model.objects.filter(membership=keep).values("idempotency_key")
    clashing: list[Any] = list(model.objects.filter(membership=gone, idempotency_key__in=keys))
    for row in clashing:
        row.idempotency_key = f"merged:{gone.pk}:{row.idempotency_key}"[:120]
    # A bulk update: LedgerEntry.save() refuses changes to a movement.
    model.objects.bulk_update(clashing, ["idempotency_key"])


def _combine(context: MergeContext, keep: Membership, gone: Membership) -> None:
    # Idempotency keys are unique per membership: a key both used (a manual adjustment
    # with the same key, say) gets the absorbed membership's id in front.
    _rekey(LedgerEntry, keep, gone)
    _rekey(Redemption, keep, gone)
    context.moved["Points ledger entries"] += LedgerEntry.objects.filter(membership=gone).update(
        membership=keep
    )
    context.moved["Reward redemptions"] += Redemption.objects.filter(membership=gone).update(
        membership=keep
    )
    TierChange.objects.filter(membership=gone).update(membership=keep)
    fields = ["balance", "pending_points"]
    keep.balance += gone.balance
    keep.pending_points += gone.pending_points
    if gone.tier is not None and (keep.tier is None or gone.tier.threshold > keep.tier.threshold):
        keep.tier, keep.tier_since, keep.below_tier_since = (
            gone.tier,
            gone.tier_since,
            gone.below_tier_since,
        )
        fields += ["tier", "tier_since", "below_tier_since"]
    if gone.joined_at < keep.joined_at:
        keep.joined_at = gone.joined_at
        fields.append("joined_at")
    context.notes.append(
        f"{keep.program}: both were members; {gone.balance:,} points joined the survivor's "
        f"{keep.balance - gone.balance:,} (now {keep.balance:,})."
    )
    gone.delete()
    keep.save(update_fields=fields)
    context.moved[MEMBERSHIPS] += 1
