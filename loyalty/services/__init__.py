"""Loyalty writes: every points movement goes through here, one transaction per use case.

Rows that move points are locked with select_for_update (memberships in pk order)
before anything is read; idempotency keys are unique in the database, so a retried
purchase, event, task or request moves points once.

One module per sub-domain: ledger (lots, locks, credits and debits), configuration,
membership, earning, purchases (the purchase hook), adjustments, rewards, offers, tiers,
nightly, affinity (categories bought together). The refusals they raise are in loyalty.errors.
"""

from .adjustments import MAX_ADJUSTMENT, points_adjust, points_reverse_for_purchase
from .affinity import category_affinity_refresh
from .configuration import (
    check_program_consistency,
    config_change_cancel,
    config_changes_apply,
    config_save,
    config_schedule,
    reward_problems,
    snapshot,
    tier_problems,
)
from .earning import (
    points_backfill,
    points_earn_for_event,
    points_multiplied,
    purchase_points_explain,
)
from .ledger import lot_dates
from .membership import membership_join, program_accepts, program_enrol_eligible
from .nightly import STEPS, nightly_step_run, points_release_and_expire
from .offers import offer_grant, offer_reach_refresh, offer_redeem
from .purchases import earn_missing_for_purchases, points_earn_for_purchase
from .rewards import points_redeem, redemption_cancel, redemption_fulfil
from .tiers import tiers_recompute

__all__ = [
    "MAX_ADJUSTMENT",
    "STEPS",
    "category_affinity_refresh",
    "check_program_consistency",
    "config_change_cancel",
    "config_changes_apply",
    "config_save",
    "config_schedule",
    "earn_missing_for_purchases",
    "lot_dates",
    "membership_join",
    "nightly_step_run",
    "offer_grant",
    "offer_reach_refresh",
    "offer_redeem",
    "points_adjust",
    "points_backfill",
    "points_earn_for_event",
    "points_earn_for_purchase",
    "points_multiplied",
    "points_redeem",
    "points_release_and_expire",
    "points_reverse_for_purchase",
    "program_accepts",
    "program_enrol_eligible",
    "purchase_points_explain",
    "redemption_cancel",
    "redemption_fulfil",
    "reward_problems",
    "snapshot",
    "tier_problems",
    "tiers_recompute",
]
