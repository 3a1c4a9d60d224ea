"""Loyalty programs on a points ledger.

Invariants the database keeps: one membership per customer and program; a cached
balance that is never negative; an idempotency key per membership so a purchase, an
event or a redemption request moves points at most once. `points` on a ledger entry
is signed; positive entries are *lots* whose `remaining` is consumed oldest first.
For every membership: balance == sum(released entries) == sum(remaining of released
lots), pending_points == sum(entries still pending); `loyalty_audit` checks both.
"""

from .affinity import CategoryAffinity, CategoryReach
from .changes import ChangeStatus, ConfigChange, ConfigKind
from .earning import KNOWN_EVENTS, EarningRule, RuleKind
from .ledger import AppendOnly, EntryKind, LedgerEntry
from .programs import (
    DowngradePolicy,
    ExpiryPolicy,
    JoinSource,
    Membership,
    Program,
    Tier,
    TierBasis,
    TierChange,
)
from .rewards import (
    Offer,
    OfferGrant,
    OfferKind,
    OfferReach,
    OfferRedemption,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardCode,
)
from .runs import LoyaltyRun, RunStatus

__all__ = [
    "KNOWN_EVENTS",
    "AppendOnly",
    "CategoryAffinity",
    "CategoryReach",
    "ChangeStatus",
    "ConfigChange",
    "ConfigKind",
    "DowngradePolicy",
    "EarningRule",
    "EntryKind",
    "ExpiryPolicy",
    "JoinSource",
    "LedgerEntry",
    "LoyaltyRun",
    "Membership",
    "Offer",
    "OfferGrant",
    "OfferKind",
    "OfferReach",
    "OfferRedemption",
    "Program",
    "Redemption",
    "RedemptionStatus",
    "Reward",
    "RewardCode",
    "RuleKind",
    "RunStatus",
    "Tier",
    "TierBasis",
    "TierChange",
]
