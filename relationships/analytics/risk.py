"""Risk score with human-readable reasons, and value at risk.

Each signal adds points, capped per signal (see ``RISK_POINTS``) and 100 in
all; docs/analytics.md explains each threshold. A NaN signal is unavailable
(no loyalty membership, no purchase history, no manager) and adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

# Maximum points per signal; they add up to 100.
RISK_POINTS = {
    "gap": 35.0,  # purchase gap against the customer's own usual gap
    "p_alive": 30.0,  # BG/NBD probability the customer is still active
    "complaints": 20.0,  # complaints in the last 30 days
    "contact": 10.0,  # days since the account manager's last interaction
    "points": 5.0,  # days loyalty points have sat unused
}
GAP_FREE_RATIO = 1.0  # up to the usual gap: no points
GAP_FULL_RATIO = 3.0  # three usual gaps of silence: full points
P_ALIVE_FREE = 0.7  # P(alive) at or above 0.7: no points
P_ALIVE_FULL = 0.2  # P(alive) at or below 0.2: full points
POINTS_PER_COMPLAINT = 10.0
CONTACT_FREE_DAYS = 60  # no manager contact for up to 60 days: no points
CONTACT_FULL_DAYS = 120
POINTS_UNUSED_FREE_DAYS = 90
POINTS_UNUSED_FULL_DAYS = 180
DAYS_PER_MONTH = 365.25 / 12
# Community activity mitigates: a customer helping others or co-creating in the last 90
# days is engaged whatever their purchase rhythm. Not in RISK_POINTS: it only takes away.
COMMUNITY_POINTS_EACH = 5.0
COMMUNITY_POINTS_MAX = 10.0


def _ramp(value: np.ndarray, free: float, full: float) -> np.ndarray:
    """0 at or before ``free``, 1 at or beyond ``full``, linear between (NaN gives 0)."""
    share = (value - free) / (full - free)
    return np.nan_to_num(np.clip(share, 0.0, 1.0), nan=0.0)


def _arr(values, n: int) -> np.ndarray:
    out = np.asarray(values, dtype=float)
    if out.shape != (n,):
        raise ValueError("all risk signals must be aligned with the customers")
    return out


def risk_scores(
    *,
    days_since_last_purchase: np.ndarray,
    usual_gap_days: np.ndarray,
    p_alive: np.ndarray,
    complaints_30d: np.ndarray,
    days_since_manager_contact: np.ndarray,
    days_points_unused: np.ndarray,
    expects_repeat: np.ndarray,
    has_purchases: np.ndarray,
    community_90d: np.ndarray | None = None,
) -> tuple[np.ndarray, Reasons]:
    """Risk score 0-100 per customer and the reasons behind it.

    Points (``RISK_POINTS``):
    - purchase gap, up to 35: the days since the last purchase as a multiple of
      the customer's usual gap between purchases; nothing up to 1x, full at 3x;
    - P(alive), up to 30: nothing at 0.7 or above, full at 0.2 or below;
    - complaints in the last 30 days: 10 each, up to 20;
    - no contact from the account manager: nothing up to 60 days, full (10) at 120;
    - loyalty points unused: nothing up to 90 days, full (5) at 180;
    - community contributions in 90 days take away 5 each, up to 10, from a score above
      0 (never below 0): engagement the purchase signals do not see.
    Customers who are not expected to buy again (``expects_repeat`` False: a
    transactional segment) and customers with no purchase get no gap or
    P(alive) points: their silence is not a warning sign.
    """
    expects_repeat = np.asarray(expects_repeat, dtype=bool)
    n = expects_repeat.size
    has_purchases = np.asarray(has_purchases, dtype=bool)
    if has_purchases.shape != (n,):
        raise ValueError("all risk signals must be aligned with the customers")
    since = _arr(days_since_last_purchase, n)
    usual = _arr(usual_gap_days, n)
    alive = _arr(p_alive, n)
    complaints = _arr(complaints_30d, n)
    contact = _arr(days_since_manager_contact, n)
    unused = _arr(days_points_unused, n)

    repeat_buyer = expects_repeat & has_purchases
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(repeat_buyer & (usual > 0), since / usual, np.nan)
    gap_pts = RISK_POINTS["gap"] * _ramp(ratio, GAP_FREE_RATIO, GAP_FULL_RATIO)
    alive_used = np.where(repeat_buyer, alive, np.nan)
    # Lower P(alive) is worse, so ramp on its negative.
    alive_pts = RISK_POINTS["p_alive"] * _ramp(-alive_used, -P_ALIVE_FREE, -P_ALIVE_FULL)
    complaint_pts = np.minimum(
        np.nan_to_num(np.maximum(complaints, 0), nan=0.0) * POINTS_PER_COMPLAINT,
        RISK_POINTS["complaints"],
    )
    contact_pts = RISK_POINTS["contact"] * _ramp(contact, CONTACT_FREE_DAYS, CONTACT_FULL_DAYS)
    unused_pts = RISK_POINTS["points"] * _ramp(
        unused, POINTS_UNUSED_FREE_DAYS, POINTS_UNUSED_FULL_DAYS
    )
    scores = np.minimum(gap_pts + alive_pts + complaint_pts + contact_pts + unused_pts, 100.0)
    active = np.zeros(n) if community_90d is None else _arr(community_90d, n)
    community_pts = np.where(
        scores > 0,
        -np.minimum(np.maximum(active, 0) * COMMUNITY_POINTS_EACH, COMMUNITY_POINTS_MAX),
        0.0,
    )
    community_pts = np.maximum(community_pts, -scores)
    scores = scores + community_pts
    parts = RiskParts(
        gap=gap_pts,
        alive=alive_pts,
        complaints=complaint_pts,
        contact=contact_pts,
        unused=unused_pts,
        ratio=ratio,
        since=since,
        usual=usual,
        p_alive=alive,
        complaint_count=complaints,
        contact_days=contact,
        unused_days=unused,
        community=community_pts,
        community_count=active,
    )
    return scores, Reasons(parts, scores)


@dataclass(frozen=True)
class RiskParts:
    """Each signal's points and the figures the reasons quote, per customer."""

    gap: np.ndarray
    alive: np.ndarray
    complaints: np.ndarray
    contact: np.ndarray
    unused: np.ndarray
    ratio: np.ndarray
    since: np.ndarray
    usual: np.ndarray
    p_alive: np.ndarray
    complaint_count: np.ndarray
    contact_days: np.ndarray
    unused_days: np.ndarray
    community: np.ndarray  # points taken away (0 or negative)
    community_count: np.ndarray


class Reasons(Sequence[list[str]]):
    """The reasons behind each score, written out when asked for (``take``): the text is
    Python per customer, and an incremental night needs it for only the few customers it
    writes (a full night takes them all)."""

    def __init__(self, parts: RiskParts, scores: np.ndarray) -> None:
        self._parts = parts
        self._scores = scores

    def __len__(self) -> int:
        return self._scores.size

    @overload
    def __getitem__(self, i: int) -> list[str]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[str]]: ...

    def __getitem__(self, i: int | slice) -> list[str] | list[list[str]]:
        if isinstance(i, slice):
            return self.take(range(len(self))[i])
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self.take([i % len(self)])[0]

    def __eq__(self, other) -> bool:
        if isinstance(other, Reasons | list):
            return list(self) == list(other)
        return NotImplemented

    def take(self, indices) -> list[list[str]]:
        """The reasons of many customers at once, an empty list for those with none."""
        idx = np.asarray(indices, dtype=np.int64)
        where, texts = self.given(idx)
        out: list[list[str]] = [[] for _ in range(idx.size)]
        for j, text in zip(where.tolist(), texts, strict=True):
            out[j] = text
        return out

    def given(self, indices) -> tuple[np.ndarray, list[list[str]]]:
        """Only the customers among ``indices`` with at least one reason: their positions
        in ``indices`` and their reasons. Each kind of reason is written for the customers
        it applies to in one pass; a full night has half a million customers with none,
        and no list is made for them."""
        idx = np.asarray(indices, dtype=np.int64)
        p = self._parts
        signals = (p.gap, p.alive, p.complaints, p.contact, p.unused)
        has = np.zeros(idx.size, dtype=bool)
        for points in signals:
            has |= points[idx] > 0
        where = np.flatnonzero(has)
        rows = idx[where]
        out: list[list[str]] = [[] for _ in range(where.size)]

        def add(points: np.ndarray, texts) -> None:
            hit = np.flatnonzero(points[rows] > 0)
            for j, text in zip(hit.tolist(), texts(rows[hit]), strict=True):
                out[j].append(text)

        add(
            p.gap,
            lambda r: [
                f"no purchase for {a:,.1f}\u00d7 their usual gap ({b:,.0f} days; usually {c:,.0f})"
                for a, b, c in zip(
                    p.ratio[r].tolist(), p.since[r].tolist(), p.usual[r].tolist(), strict=True
                )
            ],
        )
        add(p.alive, lambda r: [f"P(alive) {a:.0%}" for a in p.p_alive[r].tolist()])
        add(
            p.complaints,
            lambda r: [
                f"{n:,} complaint{'s' if n != 1 else ''} in 30 days"
                for n in p.complaint_count[r].astype(int).tolist()
            ],
        )
        add(
            p.contact,
            lambda r: [
                f"no contact from their manager in {a:,.0f} day{'s' if round(a) != 1 else ''}"
                for a in p.contact_days[r].tolist()
            ],
        )
        add(
            p.unused,
            lambda r: [
                f"points unused for {m:,.0f} month{'s' if round(m) != 1 else ''}"
                for m in (p.unused_days[r] / DAYS_PER_MONTH).tolist()
            ],
        )
        add(
            -p.community,
            lambda r: [
                f"active in the community: {n:,} contribution{'s' if n != 1 else ''} in 90 days "
                f"(\u2212{pts:.0f})"
                for n, pts in zip(
                    p.community_count[r].astype(int).tolist(),
                    (-p.community[r]).tolist(),
                    strict=True,
                )
            ],
        )
        return where, out


def value_at_risk(clv: np.ndarray, p_alive: np.ndarray) -> np.ndarray:
    """The part of the lifetime value the customer may already have walked away with: CLV (1 - P(alive))."""
    return np.asarray(clv, dtype=float) * (1.0 - np.asarray(p_alive, dtype=float))
