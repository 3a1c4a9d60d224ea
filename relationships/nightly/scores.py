"""The scores step: P(alive), expected purchases, CLV, value tiers, risk score and
reasons for every customer (numpy), and the dashboard's counts of the whole book."""

from __future__ import annotations

import numpy as np

from ..analytics.clv import bgnbd_expected_purchases_at, bgnbd_p_alive, clv_discounted
from ..analytics.risk import risk_scores, value_at_risk
from ..analytics.valuation import strategic_score, value_tiers
from ..models import RunMode
from ..selectors.analytics import CLV_EDGES
from .context import RunContext
from .retention import retention_dates


def step_scores(ctx: RunContext) -> int:
    d = ctx.data
    n = d["ids"].size
    end_day = ctx.as_of.timestamp() / 86400.0
    buyers = d["days"] > 0
    x, t_x, big_t = d["frequency"], d["recency"], d["T"]
    bg, gg = d["fit"]["bg"], d["fit"]["gg"]

    p_alive = np.full(n, np.nan)
    expected = {h: np.zeros(n) for h in (30, 90, 365)}
    revenue_value = np.zeros(n)
    if bg is not None and buyers.any():
        b = buyers
        p_alive[b] = bgnbd_p_alive(bg, frequency=x[b], recency=t_x[b], T=big_t[b])
        horizons = bgnbd_expected_purchases_at(
            bg, ts=[float(h) for h in expected], frequency=x[b], recency=t_x[b], T=big_t[b]
        )
        for h, values in zip(expected, horizons, strict=True):
            expected[h][b] = values
        if gg is not None:
            revenue_value[b] = clv_discounted(
                bg,
                gg,
                frequency=x[b],
                recency=t_x[b],
                T=big_t[b],
                monetary_value=d["monetary"][b],
                months=12,
            )
        else:
            # No spend model: the customer's own mean spend per purchase day.
            own = d["revenue"] / np.maximum(d["days"], 1)
            spend = np.where(np.isfinite(d["monetary"]), d["monetary"], own)
            revenue_value[b] = expected[365][b] * spend[b]
    # CLV over the next 12 months: discounted expected revenue less what serving the
    # customer costs while they stay (the segment's cost to serve, weighted by P(alive)).
    alive_for_cost = np.where(np.isnan(p_alive), np.where(buyers, 1.0, 0.0), p_alive)
    clv = revenue_value - d["cost_to_serve"] * alive_for_cost
    var = np.maximum(value_at_risk(np.maximum(clv, 0.0), np.nan_to_num(p_alive, nan=1.0)), 0.0)

    since_last = np.where(buyers, end_day - d["last"], np.nan)
    # The customer's own rhythm, between purchase days (two items bought together are not
    # a gap of 0), once it is seen twice; before that, the segment's promise.
    days = d["days"]
    own_gap = np.where(
        days >= 2, (d["last_day"] - d["first_day"]) / np.maximum(days - 1, 1), np.nan
    )
    usual_gap = np.where(days >= 3, own_gap, d["expected_gap"])
    usual_gap = np.where(np.isnan(usual_gap), own_gap, usual_gap)
    # No contact on record counts from the customer's first purchase (or not at all).
    contact_base = np.where(np.isnan(d["last_contact"]), d["first"], d["last_contact"])
    since_contact = end_day - contact_base
    scores, reasons = risk_scores(
        days_since_last_purchase=since_last,
        usual_gap_days=usual_gap,
        p_alive=p_alive,
        complaints_30d=d["complaints_30d"],
        days_since_manager_contact=np.where(d["manager"] > 0, since_contact, np.nan),
        days_points_unused=end_day - d["points_unused_since"],  # NaN: no points to use
        expects_repeat=d["expects_repeat"],
        has_purchases=buyers,
        community_90d=d["community_90d"],
    )
    scores = np.rint(scores).astype(np.int64)
    financial = d["revenue_12m"] - d["cost_to_serve"]
    strategic = strategic_score(
        referrals=np.full(n, np.nan),
        advocacy_stage_rank=d["stage_rank"],
        is_reference=d["is_reference"],
        size_score=d["size_score"],
        manual=d["manual_strategic"],
    )
    fin_band, strat_band = value_tiers(financial=financial, strategic=strategic)
    d.update(
        p_alive=p_alive,
        clv=clv,
        var=var,
        scores=scores,
        reasons=reasons,
        fin_band=fin_band,
        strat_band=strat_band,
    )

    # Every column as a float array (NaN for NULL); the PostgreSQL path ships them as
    # one binary COPY built by numpy, the portable path turns them into Python values.
    columns = {
        "customer_id": d["ids"],
        "first_days": d["first"],
        "last_days": d["last"],
        "purchase_count": d["count"],
        "revenue": np.round(d["revenue"], 2),
        "usual_gap_days": np.round(usual_gap, 1),
        "days_since_last_purchase": np.floor(since_last),
        "complaints_30d": d["complaints_30d"],
        "contact_days": d["last_contact"],
        "p_alive": np.round(p_alive, 4),
        "expected_purchases_30d": np.round(expected[30], 4),
        "expected_purchases_90d": np.round(expected[90], 4),
        "expected_purchases_365d": np.round(expected[365], 4),
        "clv_12m": np.round(np.nan_to_num(clv), 2),
        "value_at_risk": np.round(np.nan_to_num(var), 2),
        "financial_value": np.round(np.nan_to_num(financial), 2),
        "strategic_value": np.round(strategic, 2),
        "financial_band": fin_band,
        "strategic_band": strat_band,
        "risk_score": scores,
        "revenue_12m": np.round(d["revenue_12m"], 2),
        "points_days": d["points_unused_since"],
        "community_90d": d["community_90d"],
    }
    if ctx.mode == RunMode.FULL:
        # Retention is counted on full nights only; its two dates go with the rows then.
        since, churned = retention_dates(d, ctx.run_date)
        d["customer_since"], d["churned_on"] = since, churned
        columns["since_days"] = _epoch_days(since)
        columns["churned_days"] = _epoch_days(churned)
    d["metric_columns"] = columns
    d["dashboard"] = _dashboard_summary(columns, d["manager"], d["stage_rank"])
    return n


def _epoch_days(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> days since 1970 as float, NaN for NaT (the columns' NULL)."""
    return np.where(np.isnat(days), np.nan, days.astype("datetime64[D]").astype(np.int64))


def _dashboard_summary(c: dict[str, np.ndarray], managers: np.ndarray, stages: np.ndarray) -> dict:
    """The value-tier grid, CLV histogram and ladder (stage rank) counts of the whole
    book and of each account
    manager's book (as assigned at the run), stored on the run so the dashboard reads
    them instead of aggregating up to a million rows per view. Same buckets as
    selectors.analytics counts live (CLV as stored: rounded to cents)."""
    fin = np.asarray(c["financial_band"], dtype=np.int64)
    strat = np.asarray(c["strategic_band"], dtype=np.int64)
    buyers = np.asarray(c["purchase_count"]) > 0
    bucket = np.searchsorted(
        np.array(CLV_EDGES, dtype=float), np.asarray(c["clv_12m"]), side="right"
    )

    def counts(*keys: np.ndarray) -> list[list[int]]:
        """Rows per distinct key tuple: the keys folded into one int64 (np.unique on a
        1-D array sorts numbers; along axis 0 it sorts row views, seconds slower)."""
        if not keys[0].size:
            return []
        radix = [int(k.max()) + 1 for k in keys]
        folded = np.zeros(keys[0].size, dtype=np.int64)
        for k, r in zip(keys, radix, strict=True):
            folded = folded * r + k
        found, n = np.unique(folded, return_counts=True)
        out = []
        for f, m in zip(found.tolist(), n.tolist(), strict=True):
            parts = []
            for r in reversed(radix):
                f, part = divmod(f, r)
                parts.append(part)
            out.append([*reversed(parts), m])
        return out

    stage = np.asarray(stages, dtype=np.int64)
    summary: dict = {
        "tiers": counts(fin, strat),
        "clv": counts(bucket[buyers]),
        "stages": counts(stage),
        "managers": {},
    }
    by_manager = summary["managers"]
    for m, st, k in counts(managers, stage):
        if m:
            by_manager.setdefault(str(m), {"tiers": [], "clv": [], "stages": []})["stages"].append(
                [st, k]
            )
    for m, f, s, k in counts(managers, fin, strat):
        if m:
            by_manager.setdefault(str(m), {"tiers": [], "clv": [], "stages": []})["tiers"].append(
                [f, s, k]
            )
    for m, b, k in counts(managers[buyers], bucket[buyers]):
        if m:
            by_manager.setdefault(str(m), {"tiers": [], "clv": [], "stages": []})["clv"].append(
                [b, k]
            )
    return summary
