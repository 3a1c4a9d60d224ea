"""The at-risk queue and the analytics dashboard: thin views over relationships'
analytics selectors, plus the chart geometry the SVG templates draw."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from customers.errors import ValidationFailed
from customers.permissions import staff_required
from relationships.analytics.retention import previous_period
from relationships.models import CutKind, PeriodKind
from relationships.nightly import risk_threshold
from relationships.selectors import (
    RetentionRange,
    at_risk_counts,
    at_risk_queue,
    attach_live_signals,
    clv_histogram,
    dashboard_ladder_counts,
    defection_reason_counts,
    is_complete,
    live_since,
    model_fits,
    nightly_runs,
    period_label,
    retention_cohorts,
    retention_cuts,
    retention_overview,
    retention_range,
    value_tier_grid,
)
from relationships.selectors.retention import PERIOD_UNITS
from relationships.views.charts import CHART_H, CHART_W, PAD

NO_FIGURE, MINUS = "\u2013", "\u2212"  # an en dash for "no figure"; a real minus sign
QUEUE_LIMIT = 200  # the top of the queue; nobody calls more in a morning


@staff_required
def at_risk(request):
    since = live_since()
    queue = at_risk_queue(actor=request.user, since=since, live=False)
    # Unhandled first: the top of the queue is what is left to do this morning.
    flags = attach_live_signals(list(queue[:QUEUE_LIMIT]), since)
    if len(flags) < QUEUE_LIMIT:
        counts = {"total": len(flags), "handled": sum(1 for f in flags if f.handled)}
    else:
        counts = at_risk_counts(actor=request.user)
    return render(
        request,
        "crm/analytics/at_risk.html",
        {
            "nav": "at-risk",
            "flags": flags,
            "total": counts["total"],
            "handled": counts["handled"],
            "since": since,
            "back": request.get_full_path(),
            "threshold": risk_threshold(),
        },
    )


@staff_required
def analytics(request):
    actor = request.user
    error = ""
    try:
        chosen = retention_range(
            period_kind=request.GET.get("period"),
            date_from=request.GET.get("from"),
            date_to=request.GET.get("to"),
        )
    except ValidationFailed as exc:
        # The page still shows the default figures, under the message.
        error, chosen = exc.message, RetentionRange()
    overview = retention_overview(actor=actor, range=chosen)
    headline = overview.headline if overview else None
    context: dict[str, Any] = {
        "nav": "analytics",
        "scope": "the whole book" if actor.is_admin else "your book",
        "chosen": chosen,
        "period_choices": PeriodKind.choices,
        "error": error,
        "overview": overview,
        "unit": PERIOD_UNITS[chosen.period_kind],
        "cards": _cards(overview),
        "trend": _line_chart(overview),
        "periods": [_row(s) for s in reversed(overview.periods)] if overview else [],
        "ladder": _funnel(dashboard_ladder_counts(actor=actor)),
        "tiers": value_tier_grid(actor=actor),
        "clv": _histogram(clv_histogram(actor=actor)),
        "defections": _bars(defection_reason_counts(actor=actor)),
    }
    if actor.is_admin:
        cuts = {}
        for name, cut_kind in (
            ("segments", CutKind.SEGMENT),
            ("types", CutKind.RELATIONSHIP_TYPE),
            ("managers", CutKind.ACCOUNT_MANAGER),
        ):
            rows = []
            if headline is not None:
                rows = retention_cuts(
                    actor=actor,
                    period_kind=chosen.period_kind,
                    period_start=headline.period_start,
                    cut_kind=cut_kind,
                )
            cuts[name] = [_row(s, cut=f"{s.cut_kind}:{s.cut_key}") for s in rows]
        fits = model_fits()
        context.update(
            cuts=cuts,
            cut_period=period_label(chosen.period_kind, headline.period_start) if headline else "",
            cohorts=_heatmap(retention_cohorts(actor=actor, range=chosen)),
            fit=_fit_summary(fits[0]) if fits else None,
            runs=nightly_runs(),
        )
    response = render(request, "crm/analytics/dashboard.html", context)
    if error:
        response.status_code = 400
    return response


# --- What the cards and tables say, and where each number leads --------------------------


def behind_url(snapshot, figure: str, cut: str | None) -> str:
    """The customer list holding the customers behind one figure of a snapshot. ``cut``
    None: the actor's own book (a manager's figures are their book already)."""
    params = {
        "retention": figure,
        "period": snapshot.period_kind,
        "period_start": snapshot.period_start.isoformat(),
    }
    if cut:
        params["cut"] = cut
    return f"{reverse('customer-list')}?{urlencode(params)}"


def _links(snapshot, cut: str | None) -> dict[str, str]:
    return {f: behind_url(snapshot, f, cut) for f in ("at_start", "retained", "lost", "new")}


def _lifetime(snapshot) -> str:
    """A lifetime from a retention of 100% is not a number: nobody has left yet."""
    if snapshot.retention_rate is None:
        return NO_FIGURE
    if snapshot.retention_rate >= 1:
        return "no churn yet"
    if snapshot.lifetime_periods is None:
        return NO_FIGURE
    unit = PERIOD_UNITS[snapshot.period_kind]
    return f"{snapshot.lifetime_periods:,.1f} {unit}s"


def _row(snapshot, *, cut: str | None = None) -> dict:
    """One period (or cut) of a figures table: its numbers, its links, whether running.
    ``cut``: the cut the links narrow the list to (none: the actor's book)."""
    return {
        "s": snapshot,
        "label": period_label(snapshot.period_kind, snapshot.period_start),
        "complete": is_complete(snapshot),
        "lifetime": _lifetime(snapshot),
        "links": _links(snapshot, cut),
    }


def _cards(overview) -> dict | None:
    if overview is None:
        return None
    s = overview.headline
    cards: dict = {"headline": s, "running": overview.running}
    if s is not None:
        previous = previous_period(s.period_kind, s.period_start)[0]
        cards.update(
            label=period_label(s.period_kind, s.period_start),
            previous_label=period_label(s.period_kind, previous),
            lifetime=_lifetime(s),
            links=_links(s, None),
        )
    running = overview.running
    if running is not None:
        cards.update(
            running_label=period_label(running.period_kind, running.period_start),
            running_to=running.run_date - dt.timedelta(days=1),
        )
    return cards


def _fit_summary(fit) -> dict:
    """The fit's diagnostics as a person reads them: how many customers, converged or
    not, the penalty, the log-likelihood."""

    def converged(flag: bool | None) -> str:
        if flag is None:
            return "convergence not recorded"
        return "converged" if flag else "did not converge: read its parameters with care"

    def loglik(value: float | None) -> str:
        return "" if value is None else "log-likelihood " + f"{value:,.1f}".replace("-", MINUS)

    return {
        "fit": fit,
        "bgnbd": ", ".join(
            p
            for p in (
                f"fitted on {fit.n_customers:,} customers",
                converged(fit.bgnbd_converged) if fit.bgnbd_r is not None else "not fitted",
                loglik(fit.bgnbd_log_likelihood),
            )
            if p
        ),
        "gg": ", ".join(
            p
            for p in (
                f"fitted on {fit.gg_n_customers:,} customers with a repeat purchase",
                converged(fit.gg_converged),
                loglik(fit.gg_log_likelihood),
            )
            if p
        )
        if fit.gg_p is not None
        else "not fitted",
        "penalty": "no penalty" if not fit.penalizer else f"penalty {fit.penalizer:g}",
    }


# --- Chart geometry (numbers only; the templates draw and escape) ----------------------

SHORT_LABEL = {PeriodKind.MONTH: "%b %y", PeriodKind.YEAR: "%Y"}


def _short_label(snapshot) -> str:
    if snapshot.period_kind == PeriodKind.QUARTER:
        start = snapshot.period_start
        return f"Q{(start.month - 1) // 3 + 1} {start:%y}"
    return snapshot.period_start.strftime(SHORT_LABEL[snapshot.period_kind])


def _line_chart(overview) -> dict | None:
    """The retention rate per period; a running period's point and the line to it are
    marked partial (drawn dashed): its figure covers only the days so far."""
    if overview is None:
        return None
    points = [s for s in overview.periods if s.retention_rate is not None]
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
        dots.append(
            {
                "x": round(PAD + i * step, 1),
                "y": y_of(s.retention_rate),
                "label": _short_label(s),
                "name": period_label(s.period_kind, s.period_start),
                "rate": round(s.retention_rate * 100, 1),
                "snapshot": s,
                "partial": not is_complete(s),
                "url": behind_url(s, "retained", None),
            }
        )
    solid = [d for d in dots if not d["partial"]]
    partial = None
    if dots[-1]["partial"] and solid:
        partial = {
            "x1": solid[-1]["x"],
            "y1": solid[-1]["y"],
            "x2": dots[-1]["x"],
            "y2": dots[-1]["y"],
        }
    ticks = [floor + span * k / 4 for k in range(5)]
    gridlines = [{"y": y_of(v), "label": f"{v * 100:.1f}".removesuffix(".0") + "%"} for v in ticks]
    return {
        "w": CHART_W,
        "h": CHART_H,
        "pad": PAD,
        "right": CHART_W - PAD,
        "polyline": " ".join(f"{d['x']},{d['y']}" for d in solid),
        "partial": partial,
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
    """Cohorts (acquisition year) down, periods across, shaded by retention rate; the
    running period's column is marked partial."""
    if not snapshots:
        return None
    periods = sorted({s.period_start for s in snapshots})
    cohorts = sorted({(s.cut_key, s.cut_label) for s in snapshots})
    cells = {(s.cut_key, s.period_start): s for s in snapshots}
    first = {s.period_start: s for s in snapshots}
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
                    "partial": not is_complete(first[p]),
                    "url": behind_url(s, "retained", f"cohort:{key}") if s else "",
                }
            )
        rows.append({"label": label, "cells": row})
    columns = [
        {
            "label": _short_label(first[p]),
            "name": period_label(first[p].period_kind, p),
            "partial": not is_complete(first[p]),
        }
        for p in periods
    ]
    return {"periods": columns, "rows": rows}
