"""Customer valuation by financial and strategic value (Gordon, 1999).

Gordon, I. H. (1999), "Relationship Marketing", Wiley: value each customer by
the profit they bring (financial value) and by what they bring besides money
(strategic value: referrals, advocacy, being a reference, size, fit), then
categorise them to decide where to invest, which relationships to serve
differently and which to end.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

LOW, MID, HIGH = 0, 1, 2

# Points out of 100 for each strategic signal (they add up to 100).
STRATEGIC_WEIGHTS = {
    "referrals": 30.0,  # 10 points per referral, up to 3 referrals
    "advocacy": 25.0,  # ladder rung: prospect 0 .. partner 5, linear
    "reference": 15.0,  # agrees to be a public reference
    "size": 15.0,  # size_score 0-100 (organisation size or share of wallet), linear
    "manual": 15.0,  # the account manager's own judgement 0-100, linear
}
REFERRALS_FOR_FULL_POINTS = 3
TOP_LADDER_RANK = 5  # prospect 0, customer 1, client 2, supporter 3, advocate 4, partner 5

# (financial band, strategic band) -> what to do, after Gordon's "invest / serve
# differently / consider ending" categories.
TIER_ADVICE: dict[tuple[int, int], str] = {
    (HIGH, HIGH): "Invest: the most valuable relationships; dedicated attention, first offers.",
    (HIGH, MID): "Invest and deepen: profitable today; ask for references and referrals.",
    (HIGH, LOW): "Protect the revenue: serve well and efficiently; seek value beyond money.",
    (MID, HIGH): "Invest in growth: they bring more than money; cross-sell to raise their spend.",
    (MID, MID): "Grow selectively: standard service, cross-selling, loyalty rewards.",
    (MID, LOW): "Serve differently: move routine contact to self-service and automation.",
    (LOW, HIGH): "Keep for strategic value: referrals and advocacy justify a lean service.",
    (LOW, MID): "Serve differently at lower cost: self-service, community, fewer visits.",
    (LOW, LOW): "Consider ending or repricing: the relationship costs more than it brings.",
}


def terciles(values: np.ndarray) -> np.ndarray:
    """Band 0 (low), 1 (mid) or 2 (high) by rank terciles.

    Each value's mid-rank percentile (rank - 0.5) / n, with tied values sharing
    their average rank (so equal values always share a band), is cut at 1/3 and
    2/3. NaN counts as the lowest value. With three distinct values the bands are
    0, 1, 2; a single customer, or a book where everyone is equal, is mid.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    filled = np.where(np.isnan(values), -np.inf, values)
    # 3 (rank - 0.5) / n in one division, so a value exactly on a cut is not lost to rounding.
    thirds = 3.0 * (stats.rankdata(filled, method="average") - 0.5) / values.size
    return np.minimum(np.floor(thirds).astype(np.int64), HIGH)


def value_tiers(*, financial: np.ndarray, strategic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Financial and strategic bands (0 low, 1 mid, 2 high) by terciles of the book given."""
    financial = np.asarray(financial, dtype=float)
    strategic = np.asarray(strategic, dtype=float)
    if financial.shape != strategic.shape:
        raise ValueError("financial and strategic must have the same length")
    return terciles(financial), terciles(strategic)


def strategic_score(
    *,
    referrals: np.ndarray,
    advocacy_stage_rank: np.ndarray,
    is_reference: np.ndarray,
    size_score: np.ndarray,
    manual: np.ndarray,
) -> np.ndarray:
    """Strategic value 0-100 from the weights in ``STRATEGIC_WEIGHTS``.

    - referrals: customers they referred; 10 points each, 30 at 3 or more;
    - advocacy_stage_rank: ladder rung (prospect 0, customer 1, client 2,
      supporter 3, advocate 4, partner 5); 5 points per rung, 25 for a partner;
    - is_reference: 15 points when they agree to be a reference;
    - size_score: 0-100 (size of the organisation or share of wallet); 15 at 100;
    - manual: the account manager's judgement 0-100; 15 at 100.
    NaN (unknown) contributes nothing; out-of-range values are clipped.
    """

    def arr(values) -> np.ndarray:
        return np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)

    referrals_pts = np.clip(arr(referrals) / REFERRALS_FOR_FULL_POINTS, 0, 1)
    advocacy_pts = np.clip(arr(advocacy_stage_rank) / TOP_LADDER_RANK, 0, 1)
    reference_pts = arr(is_reference) > 0
    size_pts = np.clip(arr(size_score) / 100.0, 0, 1)
    manual_pts = np.clip(arr(manual) / 100.0, 0, 1)
    w = STRATEGIC_WEIGHTS
    score = (
        w["referrals"] * referrals_pts
        + w["advocacy"] * advocacy_pts
        + w["reference"] * reference_pts
        + w["size"] * size_pts
        + w["manual"] * manual_pts
    )
    return np.clip(score, 0.0, 100.0)
