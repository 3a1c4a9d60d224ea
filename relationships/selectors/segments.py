"""Segments as the settings pages and the API show them: each with its strategy, how
many customers it holds, the value figures and (for admins, as the retention rule says)
the retention figures of the last night. Counts and sums are scoped to the actor's book."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Max, Q, Sum
from django.http import Http404

from customers.models import CustomerStatus, Segment, User
from customers.selectors import customers_visible_to

from ..models import (
    CutKind,
    PeriodKind,
    RelationshipStrategy,
    RelationshipType,
    RetentionSnapshot,
)
from .analytics import latest_run_date, metrics_visible_to, retention_snapshots_visible_to

# One line each, from DOMAIN.md: what the toggle on the strategy form means.
RELATIONSHIP_TYPE_HELP: dict[str, str] = {
    RelationshipType.TRANSACTIONAL: "No real relationship: one-off (an airport kiosk).",
    RelationshipType.LONG_TERM: "Recurring contact over a long period.",
    RelationshipType.PERSONAL_ASSISTANCE: "Human contact on request: phone, e-mail, on site.",
    RelationshipType.DEDICATED_ASSISTANCE: (
        "One named representative for one client (key-account manager, private banker)."
    ),
    RelationshipType.SELF_SERVICE: "No direct contact: customers get the means to help themselves.",
    RelationshipType.AUTOMATED_SERVICES: (
        "Self-service plus automation that knows the customer (personal recommendations)."
    ),
    RelationshipType.COMMUNITIES: "Customers exchange knowledge and solve each other's problems.",
    RelationshipType.CO_CREATION: "Customers create value with us: reviews, ideas, designs, content.",
}
RETENTION_MONTHS = 12  # the segment page's chart


@dataclass
class SegmentFigures:
    segment: Segment
    strategy: RelationshipStrategy | None
    customers: int = 0
    active: int = 0
    revenue: Decimal = Decimal("0")
    clv_12m: Decimal = Decimal("0")
    avg_clv_12m: Decimal | None = None
    value_at_risk: Decimal = Decimal("0")
    computed_for: dt.date | None = None
    month: RetentionSnapshot | None = None  # the last complete month (admins)
    year: RetentionSnapshot | None = None  # the last complete year (admins)
    monthly: list[RetentionSnapshot] = field(default_factory=list)

    @property
    def yearly_cost(self) -> Decimal | None:
        """What serving the segment's active customers costs a year, by its strategy."""
        if self.strategy is None:
            return None
        return self.strategy.cost_to_serve_per_year * self.active


def _figures(*, actor: User, segments: list[Segment], monthly: bool) -> list[SegmentFigures]:
    ids = [s.pk for s in segments]
    counts = {
        row["segment"]: row
        for row in customers_visible_to(actor)
        .filter(segment__in=ids)
        .values("segment")
        .annotate(n=Count("id"), active=Count("id", filter=Q(status=CustomerStatus.ACTIVE)))
    }
    values = {
        row["customer__segment"]: row
        for row in metrics_visible_to(actor)
        .filter(customer__segment__in=ids)
        .values("customer__segment")
        .annotate(
            revenue=Sum("revenue"),
            clv=Sum("clv_12m"),
            avg_clv=Avg("clv_12m"),
            at_risk=Sum("value_at_risk"),
            computed=Max("computed_for"),
        )
    }
    strategies = {s.segment_id: s for s in RelationshipStrategy.objects.filter(segment__in=ids)}
    rows = []
    for s in segments:
        c, v = counts.get(s.pk, {}), values.get(s.pk, {})
        rows.append(
            SegmentFigures(
                segment=s,
                strategy=strategies.get(s.pk),
                customers=c.get("n", 0),
                active=c.get("active", 0),
                revenue=v.get("revenue") or Decimal("0"),
                clv_12m=v.get("clv") or Decimal("0"),
                avg_clv_12m=v.get("avg_clv"),
                value_at_risk=v.get("at_risk") or Decimal("0"),
                computed_for=v.get("computed"),
            )
        )
    _add_retention(actor=actor, rows=rows, monthly=monthly)
    return rows


def _add_retention(*, actor: User, rows: list[SegmentFigures], monthly: bool) -> None:
    """The last night's segment cut: each segment's last complete month and year, and
    with `monthly` its last twelve months. Managers see none (the retention rule)."""
    run_date = latest_run_date()
    if run_date is None or not rows:
        return
    by_key = {str(r.segment.pk): r for r in rows}
    snapshots = (
        retention_snapshots_visible_to(actor)
        .filter(
            run_date=run_date,
            cut_kind=CutKind.SEGMENT,
            cut_key__in=list(by_key),
            period_kind__in=[PeriodKind.MONTH, PeriodKind.YEAR],
        )
        .order_by("period_start")
    )
    for snap in snapshots:
        row = by_key[snap.cut_key]
        if snap.period_kind == PeriodKind.MONTH:
            if monthly:
                row.monthly.append(snap)
            if snap.is_complete:
                row.month = snap
        elif snap.is_complete:
            row.year = snap
    for row in rows:
        row.monthly = row.monthly[-RETENTION_MONTHS:]


def segment_overview(*, actor: User) -> list[SegmentFigures]:
    """Every segment with its strategy and figures (staff; figures scoped to the book)."""
    if not actor.is_staff_member:
        return []
    return _figures(actor=actor, segments=list(Segment.objects.order_by("name")), monthly=False)


def segment_figures(*, actor: User, pk: int) -> SegmentFigures:
    """One segment for its page; unknown ids and non-staff get a 404."""
    try:
        segment = Segment.objects.get(pk=pk)
    except (Segment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such segment.") from exc
    if not actor.is_staff_member:
        raise Http404("No such segment.")
    return _figures(actor=actor, segments=[segment], monthly=True)[0]


# How the segment page names a changed field.
FIELD_LABELS = {
    "name": "name",
    "description": "description",
    "inactivity_days": "days until lost",
    "relationship_types": "relationship types",
    "goal": "goal",
    "rhythm": "rhythm",
    "expected_gap_days": "expected gap",
    "cost_to_serve_per_year": "cost to serve",
    "currency": "currency",
    "notes": "notes",
    "switching_costs": "switching costs",
}


def segment_changes(*, segment: Segment, limit: int = 10) -> list[dict[str, Any]]:
    """The latest recorded changes of a segment and its strategy, newest first, each with
    the changed fields named as people say them."""
    return [
        {
            "change": c,
            "created": not c.before,
            # In the form's order: jsonb keeps no key order.
            "fields": [label for f, label in FIELD_LABELS.items() if f in c.changed_fields],
        }
        for c in segment.strategy_changes.select_related("changed_by")[:limit]
    ]


def figures_as_dict(row: SegmentFigures) -> dict[str, Any]:
    """The figures the API returns with a segment (numbers as the pages show them)."""

    def retention(snap: RetentionSnapshot | None) -> dict | None:
        if snap is None:
            return None
        return {
            "period_start": snap.period_start,
            "period_end": snap.period_end,
            "at_start": snap.at_start,
            "retained": snap.retained,
            "retention_rate": snap.retention_rate,
            "lifetime_periods": snap.lifetime_periods,
        }

    return {
        "customers": row.customers,
        "active_customers": row.active,
        "revenue": row.revenue,
        "clv_12m": row.clv_12m,
        "value_at_risk": row.value_at_risk,
        "computed_for": row.computed_for,
        "retention_last_month": retention(row.month),
        "retention_last_year": retention(row.year),
    }
