import numpy as np
import pytest

from relationships.analytics.risk import risk_scores, value_at_risk

NAN = float("nan")


def score(**overrides):
    """One customer; every signal unavailable unless given."""
    signals = {
        "days_since_last_purchase": NAN,
        "usual_gap_days": NAN,
        "p_alive": NAN,
        "complaints_30d": NAN,
        "days_since_manager_contact": NAN,
        "days_points_unused": NAN,
        "expects_repeat": True,
        "has_purchases": True,
    }
    signals.update(overrides)
    scores, reasons = risk_scores(**{k: np.array([v]) for k, v in signals.items()})
    return float(scores[0]), reasons[0]


def test_every_signal_adds_its_points_and_a_reason_with_numbers():
    value, reasons = score(
        days_since_last_purchase=120,
        usual_gap_days=50,
        p_alive=0.31,
        complaints_30d=2,
        days_since_manager_contact=90,
        days_points_unused=183,
    )

    # gap 120 / 50 = 2.4x: 35 * (2.4 - 1) / (3 - 1) = 35 * 0.7 = 24.5
    # P(alive) 0.31: 30 * (0.7 - 0.31) / (0.7 - 0.2) = 30 * 0.78 = 23.4
    # complaints 2 * 10 = 20
    # no contact for 90 days: 10 * (90 - 60) / (120 - 60) = 5
    # points unused 183 days, past 180: the full 5
    # 24.5 + 23.4 + 20 + 5 + 5 = 77.9
    assert value == pytest.approx(77.9)
    assert reasons == [
        "no purchase for 2.4\u00d7 their usual gap (120 days; usually 50)",
        "P(alive) 31%",
        "2 complaints in 30 days",
        "no contact from their manager in 90 days",
        "points unused for 6 months",
    ]


def test_all_signals_at_their_worst_reach_100():
    value, reasons = score(
        days_since_last_purchase=400,
        usual_gap_days=30,
        p_alive=0.01,
        complaints_30d=7,
        days_since_manager_contact=365,
        days_points_unused=700,
    )

    # 35 + 30 + 20 (capped) + 10 + 5 = 100
    assert value == pytest.approx(100.0)
    assert "7 complaints in 30 days" in reasons


def test_a_healthy_customer_scores_zero_with_no_reasons():
    value, reasons = score(
        days_since_last_purchase=20,
        usual_gap_days=30,  # within the usual gap
        p_alive=0.9,
        complaints_30d=0,
        days_since_manager_contact=45,
        days_points_unused=30,
    )

    assert value == 0.0
    assert reasons == []


def test_a_transactional_customer_is_not_penalised_for_silence():
    value, reasons = score(
        days_since_last_purchase=900,
        usual_gap_days=30,
        p_alive=0.05,
        complaints_30d=1,
        expects_repeat=False,
    )

    # Only the complaint counts: 10 points.
    assert value == pytest.approx(10.0)
    assert reasons == ["1 complaint in 30 days"]


def test_a_prospect_without_purchases_gets_no_gap_or_p_alive_points():
    value, reasons = score(p_alive=0.1, usual_gap_days=30, has_purchases=False)

    assert value == 0.0
    assert reasons == []


def test_unavailable_signals_add_nothing():
    # No loyalty membership (NaN points), no usual gap yet (one purchase), no manager.
    value, reasons = score(days_since_last_purchase=300, p_alive=0.5)

    # P(alive) 0.5: 30 * (0.7 - 0.5) / 0.5 = 12
    assert value == pytest.approx(12.0)
    assert reasons == ["P(alive) 50%"]


def test_scores_are_computed_for_many_customers_at_once():
    scores, reasons = risk_scores(
        days_since_last_purchase=np.array([60.0, 10.0, NAN]),
        usual_gap_days=np.array([30.0, 30.0, NAN]),
        p_alive=np.array([0.95, 0.95, NAN]),
        complaints_30d=np.array([0.0, 0.0, 3.0]),
        days_since_manager_contact=np.array([NAN, 150.0, NAN]),
        days_points_unused=np.array([NAN, NAN, 135.0]),
        expects_repeat=np.array([True, True, True]),
        has_purchases=np.array([True, True, False]),
    )

    # 0: gap 2.0x -> 35 * 0.5 = 17.5; 1: contact 150 days -> full 10;
    # 2: complaints 3 -> capped 20, points 135 days -> 5 * 45 / 90 = 2.5
    assert scores.tolist() == pytest.approx([17.5, 10.0, 22.5])
    assert reasons == [
        ["no purchase for 2.0\u00d7 their usual gap (60 days; usually 30)"],
        ["no contact from their manager in 150 days"],
        ["3 complaints in 30 days", "points unused for 4 months"],
    ]


def test_risk_scores_reject_misaligned_signals():
    with pytest.raises(ValueError, match="aligned"):
        risk_scores(
            days_since_last_purchase=np.array([1.0, 2.0]),
            usual_gap_days=np.array([1.0]),
            p_alive=np.array([1.0]),
            complaints_30d=np.array([0.0]),
            days_since_manager_contact=np.array([0.0]),
            days_points_unused=np.array([0.0]),
            expects_repeat=np.array([True]),
            has_purchases=np.array([True]),
        )


def test_value_at_risk_is_the_lifetime_value_times_the_chance_they_left():
    # 1000 * (1 - 0.3) = 700; 500 * (1 - 1) = 0
    assert value_at_risk(np.array([1000.0, 500.0]), np.array([0.3, 1.0])).tolist() == (
        pytest.approx([700.0, 0.0])
    )


def test_reasons_taken_in_bulk_are_the_reasons_one_by_one():
    n = 6
    _, reasons = risk_scores(
        days_since_last_purchase=np.array([60, 10, NAN, 200, 90, 45]),
        usual_gap_days=np.array([30, 30, NAN, 50, 30, 30]),
        p_alive=np.array([0.5, 0.9, NAN, 0.1, 0.3, NAN]),
        complaints_30d=np.array([0, 1, 0, 3, 2, 0]),
        days_since_manager_contact=np.array([NAN, 150, 30, 130, 61, NAN]),
        days_points_unused=np.array([NAN, NAN, 200, 100, NAN, 95]),
        expects_repeat=np.ones(n, dtype=bool),
        has_purchases=np.array([True, True, False, True, True, True]),
    )
    order = [5, 0, 3, 3, 2, 1, 4]
    one_by_one = [list(reasons[i]) for i in order]
    assert reasons.take(order) == one_by_one
    assert one_by_one[2][0].startswith(
        "no purchase for 4.0\u00d7 their usual gap (200 days; usually 50)"
    )
    assert len(one_by_one[2]) == 5  # every signal, in the documented order


def test_community_activity_takes_five_points_each_up_to_ten_never_below_zero():
    base, _ = score(complaints_30d=1)  # 10 points
    one, one_reasons = score(complaints_30d=1, community_90d=1)
    many, many_reasons = score(complaints_30d=1, community_90d=4)
    assert base == 10.0
    assert one == 5.0
    assert "active in the community: 1 contribution in 90 days (\u22125)" in one_reasons
    assert many == 0.0  # capped at 10, and not below zero
    assert "active in the community: 4 contributions in 90 days (\u221210)" in many_reasons


def test_community_activity_alone_is_no_reason():
    value, reasons = score(community_90d=3)
    assert value == 0.0
    assert reasons == []
