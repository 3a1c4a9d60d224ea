"""The at-risk queue and the analytics dashboard: thin views over relationships'
analytics selectors, plus the chart geometry the SVG templates draw."""

from __future__ import annotations

from typing import Any

from django.shortcuts import render

from customers.permissions import staff_required
from relationships.models import CutKind
from relationships.nightly import risk_threshold
from relationships.selectors import (
    at_risk_queue,
    clv_histogram,
    dashboard_ladder_counts,
    defection_reason_counts,
    model_fits,
    nightly_runs,
    retention_by_cut,
    retention_trend,
    value_tier_grid,
)
from relationships.views.charts import CHART_H, CHART_W, PAD

QUEUE_LIMIT = 200  # the top of the queue by value at risk; nobody calls more in a morning


@staff_required
def at_risk(request):
    queue = at_risk_queue(actor=request.user)
    flags = list(queue[:QUEUE_LIMIT])
    total = len(flags) if len(flags) < QUEUE_LIMIT else queue.count()
    return render(
        request,
        "crm/analytics/at_risk.html",
        {"nav": "at-risk", "flags": flags, "total": total, "threshold": risk_threshold()},
    )


@staff_required
def analytics(request):
    actor = request.user
    trend = retention_trend(actor=actor)
    context: dict[str, Any] = {
        "nav": "analytics",
        "scope": "the whole book" if actor.is_admin else "your book",
        "trend": _line_chart(trend),
        "latest": trend[-1] if trend else None,
        "ladder": _funnel(dashboard_ladder_counts(actor=actor)),
        "tiers": value_tier_grid(actor=actor),
        "clv": _histogram(clv_histogram(actor=actor)),
        "defections": _bars(defection_reason_counts(actor=actor)),
    }
    if actor.is_admin:
        context.update(
            cohorts=_heatmap(retention_by_cut(actor=actor, cut_kind=CutKind.COHORT)),
            segments=_latest_per_cut(retention_by_cut(actor=actor, cut_kind=CutKind.SEGMENT)),
            types=_latest_per_cut(
                retention_by_cut(actor=actor, cut_kind=CutKind.RELATIONSHIP_TYPE)
            ),
            managers=_latest_per_cut(
                retention_by_cut(actor=actor, cut_kind=CutKind.ACCOUNT_MANAGER)
            ),
            fits=model_fits(),
            runs=nightly_runs(),
        )
    return render(request, "crm/analytics/dashboard.html", context)


# --- Chart geometry (numbers only; the templates draw and escape) ----------------------


def _line_chart(snapshots) -> dict | None:
    points = [s for s in snapshots if s.retention_rate is not None]
    if not points:
        return None
    inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    step = inner_w / max(len(points) - 1, 1)
    # Zoom the y axis to the data (in 10% steps) so month-to-month changes show.
    floor = max(0, int((min(s.retention_rate for s in points) - 0.05) * 10)) / 10
    span = 1 - floor or 1

    def y_of(rate: float) -> float:
        return round(PAD + inner_h * (1 - (rate - floor) / span), 1)

    dots = []
    for i, s in enumerate(points):
        x = PAD + i * step
        y = y_of(s.retention_rate)
        dots.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "label": s.period_start.strftime("%b %y"),
                "rate": round(s.retention_rate * 100, 1),
                "snapshot": s,
            }
        )
    ticks = [floor + span * k / 4 for k in range(5)]
    gridlines = [{"y": y_of(v), "label": f"{v * 100:.0f}%"} for v in ticks]
    return {
        "w": CHART_W,
        "h": CHART_H,
        "pad": PAD,
        "right": CHART_W - PAD,
        "polyline": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
        "gridlines": gridlines,
    }


def _funnel(rows) -> list[dict]:
    top = max((n for _, _, n in rows), default=0) or 1
    return [
        {"value": v, "label": label, "count": n, "width": round(max(n / top * 100, 0.5), 1)}
        for v, label, n in rows
    ]


def _bars(rows) -> list[dict]:
    top = max((n for _, n in rows), default=0) or 1
    return [{"label": label, "count": n, "width": round(n / top * 100, 1)} for label, n in rows]


def _histogram(hist: dict) -> dict | None:
    bins = hist["bins"]
    if not bins:
        return None
    top = max(b["count"] for b in bins) or 1
    inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    bar_w = inner_w / len(bins)
    bars = []
    for i, b in enumerate(bins):
        h = inner_h * b["count"] / top
        bars.append(
            {
                "x": round(PAD + i * bar_w + 1, 1),
                "y": round(PAD + inner_h - h, 1),
                "w": round(bar_w - 2, 1),
                "h": round(h, 1),
                "count": b["count"],
                "label": b["label"],
                "short": b["short"],
                "label_x": round(PAD + i * bar_w + bar_w / 2, 1),
            }
        )
    return {"w": CHART_W, "h": CHART_H, "base": PAD + inner_h, "bars": bars, "total": hist["total"]}


def _heatmap(snapshots) -> dict | None:
    """Cohorts (acquisition year) down, quarters across, shaded by retention rate."""
    if not snapshots:
        return None
    periods = sorted({s.period_start for s in snapshots})
    cohorts = sorted({(s.cut_key, s.cut_label) for s in snapshots})
    cells = {(s.cut_key, s.period_start): s for s in snapshots}
    rows = []
    for key, label in cohorts:
        row = []
        for p in periods:
            s = cells.get((key, p))
            rate = s.retention_rate if s else None
            row.append(
                {
                    "rate": None if rate is None else round(rate * 100),
                    "opacity": 0 if rate is None else round(0.15 + 0.85 * rate, 2),
                    "at_start": s.at_start if s else 0,
                }
            )
        rows.append({"label": label, "cells": row})
    return {"periods": periods, "rows": rows}


def _latest_per_cut(snapshots) -> list:
    latest = {}
    for s in snapshots:  # ordered by period_start: the last one wins
        if s.at_start:
            latest[s.cut_key] = s
    return sorted(latest.values(), key=lambda s: s.cut_label)
