"""Chart geometry for the relationships pages' server-drawn SVG: numbers only, the
templates draw and escape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# A link for one cell of a month-by-label grid: (first of the month, or None for the whole
# window, label index) -> URL.
Href = Callable[[dt.date | None, int], str]

# One frame for every server-drawn chart, these pages' and crm's analytics dashboard alike:
# the viewBox size and the margin left around the plot for axis labels.
CHART_W, CHART_H, PAD = 640, 220, 36
# Distinguishable on white, also for the common colour-blindness (Okabe-Ito).
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#999999",
]


def stacked_chart(grid: list[dict], labels: list[str], href: Href | None = None) -> dict | None:
    """Bars per month, one stacked block per reason, same colour per reason; with `href`,
    each block links to what it counts."""
    if not any(row["total"] for row in grid):
        return None
    top = max(row["total"] for row in grid)
    inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    slot = inner_w / len(grid)
    bars = []
    for i, row in enumerate(grid):
        y = PAD + inner_h
        blocks = []
        for k, n in enumerate(row["counts"]):
            if not n:
                continue
            h = inner_h * n / top
            y -= h
            blocks.append(
                {
                    "y": round(y, 1),
                    "h": round(h, 1),
                    "color": PALETTE[k % len(PALETTE)],
                    "label": labels[k],
                    "n": n,
                    "href": href(row["month"], k) if href else "",
                }
            )
        bars.append(
            {
                "x": round(PAD + i * slot + slot * 0.15, 1),
                "w": round(slot * 0.7, 1),
                "mid": round(PAD + i * slot + slot / 2, 1),
                "month": row["month"],
                "total": row["total"],
                "top_y": round(y - 4, 1),
                "blocks": blocks,
            }
        )
    legend = [
        {
            "label": label,
            "color": PALETTE[k % len(PALETTE)],
            "href": href(None, k) if href else "",
        }
        for k, label in enumerate(labels)
    ]
    return {
        "w": CHART_W,
        "h": CHART_H,
        "base": PAD + inner_h,
        "top": top,
        "pad": PAD,
        "bars": bars,
        "legend": legend,
    }


def heat_table(grid: list[dict], labels: list[str], href: Href | None = None) -> list[dict]:
    """Reasons down, months across (a heat table for reading exact numbers); with `href`,
    each non-zero cell links to what it counts."""
    top = max((n for row in grid for n in row["counts"]), default=0) or 1
    return [
        {
            "label": label,
            "cells": [
                {
                    "n": row["counts"][k],
                    "opacity": round(row["counts"][k] / top, 2),
                    "href": href(row["month"], k) if href and row["counts"][k] else "",
                }
                for row in grid
            ],
            "total": sum(row["counts"][k] for row in grid),
            "href": href(None, k) if href else "",
        }
        for k, label in enumerate(labels)
    ]


def effect_chart(effect: dict | None) -> dict | None:
    """A plan's monthly defection rate as bars; pivot_x marks where the plan took effect."""
    if not effect or not effect["months"]:
        return None
    rows = effect["months"]
    top = max((r["rate"] or 0 for r in rows), default=0) or 0.01
    inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    slot = inner_w / len(rows)
    bars = []
    pivot_x = None
    for i, r in enumerate(rows):
        h = inner_h * (r["rate"] or 0) / top
        if r["after"] and pivot_x is None:
            pivot_x = round(PAD + i * slot, 1)
        bars.append(
            {
                "x": round(PAD + i * slot + slot * 0.15, 1),
                "y": round(PAD + inner_h - h, 1),
                "w": round(slot * 0.7, 1),
                "h": round(h, 1),
                "mid": round(PAD + i * slot + slot / 2, 1),
                "after": r["after"],
                "row": r,
                "pct": None if r["rate"] is None else round(r["rate"] * 100, 1),
            }
        )
    return {
        "w": CHART_W,
        "h": CHART_H,
        "base": PAD + inner_h,
        "pad": PAD,
        "bars": bars,
        "pivot_x": pivot_x,
        "top_pct": round(top * 100, 1),
    }
