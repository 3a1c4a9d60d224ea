import itertools

import numpy as np
import pytest

from relationships.analytics.valuation import (
    TIER_ADVICE,
    strategic_score,
    terciles,
    value_tiers,
)


def test_terciles_split_a_book_in_three_by_rank():
    # Nine customers: the three lowest, the three middle, the three highest values.
    values = np.array([900.0, 10.0, 50.0, 300.0, 20.0, 5000.0, 70.0, 400.0, 30.0])

    assert terciles(values).tolist() == [2, 0, 1, 1, 0, 2, 1, 2, 0]


def test_equal_values_share_a_band_and_nan_is_lowest():
    values = np.array([np.nan, 0.0, 0.0, 7.0, 9.0, 9.0])
    # Ranks, ties averaged: nan 1, the zeros 2.5, 7 -> 4, the nines 5.5.
    # 3 * (rank - 0.5) / 6, rounded down: nan 0.25 -> 0; zeros 1.0 -> 1 (exactly
    # on the 1/3 cut: mid); 7 1.75 -> 1; nines 2.5 -> 2.
    assert terciles(values).tolist() == [0, 1, 1, 1, 2, 2]
    assert terciles(np.array([5.0, 5.0, 5.0])).tolist() == [1, 1, 1]
    assert terciles(np.array([42.0])).tolist() == [1]


def test_value_tiers_band_both_axes():
    financial_band, strategic_band = value_tiers(
        financial=np.array([100.0, 200.0, 300.0]), strategic=np.array([90.0, 10.0, 50.0])
    )

    assert financial_band.tolist() == [0, 1, 2]
    assert strategic_band.tolist() == [2, 0, 1]


def test_value_tiers_reject_misaligned_arrays():
    with pytest.raises(ValueError, match="same length"):
        value_tiers(financial=np.array([1.0]), strategic=np.array([1.0, 2.0]))


def test_every_cell_of_the_grid_has_advice():
    assert set(TIER_ADVICE) == set(itertools.product(range(3), range(3)))
    assert TIER_ADVICE[(2, 2)].startswith("Invest")
    assert TIER_ADVICE[(0, 0)].startswith("Consider ending")


def test_strategic_score_by_hand():
    score = strategic_score(
        referrals=np.array([1, 5, 0, np.nan]),
        advocacy_stage_rank=np.array([4, 5, 0, 1]),
        is_reference=np.array([False, True, False, False]),
        size_score=np.array([50.0, 100.0, 0.0, np.nan]),
        manual=np.array([np.nan, 100.0, 0.0, 40.0]),
    )

    # 0: referrals 1/3 * 30 = 10; advocate 4/5 * 25 = 20; size 0.5 * 15 = 7.5; no manual -> 37.5
    # 1: 30 (capped at 3) + 25 + 15 + 15 + 15 = 100
    # 2: nothing -> 0
    # 3: customer rung 1/5 * 25 = 5; manual 0.4 * 15 = 6 -> 11
    assert score.tolist() == pytest.approx([37.5, 100.0, 0.0, 11.0])
