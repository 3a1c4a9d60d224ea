"""Admins configure a segment and its relationship strategy in one step: the segment's
own fields (customers.services) and the strategy (strategy_save) in one transaction,
with a StrategyChange row saying who changed what and whether the next night is full."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from customers.errors import NotAllowed, ValidationFailed
from customers.models import Segment, User
from customers.services import segment_create, segment_update

from ..models import PurchaseRhythm, RelationshipStrategy, StrategyChange

# The nightly's own test of "what every customer's numbers depend on" (private to it, one
# rule): comparing it before and after a save says whether the next night must be full.
from ..nightly.incremental import _config_fingerprint
from .analytics import strategy_save

SEGMENT_FIELDS = ("name", "description", "inactivity_days")
STRATEGY_FIELDS = (
    "relationship_types",
    "goal",
    "rhythm",
    "expected_gap_days",
    "cost_to_serve_per_year",
    "currency",
    "notes",
    "switching_costs",
)
INACTIVITY_MAX_DAYS = 36_500

# What a full night recomputes that an incremental one would not (docs/analytics.md, 9).
FULL_NIGHT_RECOMPUTES = (
    "every customer's purchase, interaction and loyalty summaries, read again",
    "the purchase models (BG/NBD and Gamma-Gamma), fitted again",
    "every customer's chance of being alive, CLV, value tiers, risk score and reasons",
    "the at-risk flags and ladder suggestions of the whole book",
    "the retention figures of every period and cut (segments, relationship types, managers, cohorts)",
)


@dataclass(frozen=True)
class SegmentSaved:
    segment: Segment
    strategy: RelationshipStrategy
    change: StrategyChange | None  # None: the save changed nothing
    full_night: bool  # the next nightly run will be a full one because of this save


def _snapshot(segment: Segment | None, strategy: RelationshipStrategy | None) -> dict[str, Any]:
    if segment is None:
        return {}
    values: dict[str, Any] = {f: getattr(segment, f) for f in SEGMENT_FIELDS}
    if strategy is not None:
        for f in STRATEGY_FIELDS:
            value = getattr(strategy, f)
            values[f] = str(value) if isinstance(value, Decimal) else value
    return values


def _inactivity(value: Any) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            "Inactivity is a whole number of days.", field="inactivity_days"
        ) from None
    if not 1 <= days <= INACTIVITY_MAX_DAYS:
        raise ValidationFailed(
            f"Inactivity is between 1 and {INACTIVITY_MAX_DAYS:,} days.", field="inactivity_days"
        )
    return days


@transaction.atomic
def segment_strategy_save(
    *,
    actor: User,
    segment: Segment | None,
    relationship_types: list[str],
    goal: str,
    rhythm: str = PurchaseRhythm.MARRIAGE,
    expected_gap_days: int | None = None,
    cost_to_serve_per_year: Decimal | str | int = Decimal("0"),
    currency: str = "EUR",
    notes: str = "",
    switching_costs: str = "",
    name: str | None = None,
    description: str | None = None,
    inactivity_days: int | None = None,
) -> SegmentSaved:
    """Create a segment with its strategy (segment None: `name` required), or change an
    existing one's fields (None: unchanged) and strategy. Admins only."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin configures segments and their strategies.")
    if inactivity_days is not None:
        inactivity_days = _inactivity(inactivity_days)
    before_fingerprint = _config_fingerprint()
    if segment is None:
        before: dict[str, Any] = {}
        segment = segment_create(
            actor=actor,
            name=name or "",
            description=description or "",
            inactivity_days=inactivity_days or 365,
        )
    else:
        # Locked: two admins saving one segment at once are recorded one after the other.
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
        current = RelationshipStrategy.objects.filter(segment=segment).first()
        before = _snapshot(segment, current)
        segment = segment_update(
            actor=actor,
            segment=segment,
            name=name,
            description=description,
            inactivity_days=inactivity_days,
        )
    strategy = strategy_save(
        actor=actor,
        segment=segment,
        relationship_types=relationship_types,
        goal=goal,
        rhythm=rhythm,
        expected_gap_days=expected_gap_days,
        cost_to_serve_per_year=cost_to_serve_per_year,
        currency=currency,
        notes=notes,
        switching_costs=switching_costs,
    )
    after = _snapshot(segment, strategy)
    full_night = _config_fingerprint() != before_fingerprint
    change = None
    if after != before:
        change = StrategyChange.objects.create(
            segment=segment, changed_by=actor, before=before, after=after, full_night=full_night
        )
    return SegmentSaved(segment=segment, strategy=strategy, change=change, full_night=full_night)
