"""Reads for the ladder of loyalty: rule suggestions and moves on the actor's book, the
customers on one rung, one customer's history on the ladder."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from customers.dates import local_midnight
from customers.models import Customer, Stage, StageChange, User
from customers.selectors import customers_visible_to

from ..models import LadderSuggestion, SuggestionStatus

RANK = {value: i for i, value in enumerate(Stage.values)}  # prospect 0 ... partner 5


def stage_rank(field: str = "stage") -> Case:
    """A stage field as its rank on the ladder, for comparing rungs in SQL."""
    return Case(
        *[When(**{field: value}, then=Value(i)) for value, i in RANK.items()],
        output_field=IntegerField(),
    )


def suggestions_visible_to(actor: User) -> QuerySet[LadderSuggestion]:
    return LadderSuggestion.objects.filter(customer__in=customers_visible_to(actor))


def open_suggestions(*, actor: User) -> QuerySet[LadderSuggestion]:
    return (
        suggestions_visible_to(actor)
        .filter(status=SuggestionStatus.OPEN)
        .select_related("customer", "customer__account_manager")
        .order_by("-created_on", "-id")
    )


def stage_changes_visible_to(actor: User) -> QuerySet[StageChange]:
    """Moves on the ladder of the customers the actor may see (page and API alike)."""
    return StageChange.objects.filter(customer__in=customers_visible_to(actor))


def stage_moves_this_month(*, actor: User, today: dt.date | None = None) -> dict:
    """How many moves up and down the ladder since the first of this month (one query)."""
    today = today or timezone.localdate()
    start = local_midnight(today.replace(day=1))
    up = Q(**{"to_rank__gt": F("from_rank")})
    counts = (
        stage_changes_visible_to(actor)
        .filter(changed_at__gte=start)
        .annotate(from_rank=stage_rank("from_stage"), to_rank=stage_rank("to_stage"))
        .aggregate(up=Count("id", filter=up), down=Count("id", filter=~up))
    )
    return {"up": counts["up"], "down": counts["down"], "since": today.replace(day=1)}


def customers_on_rung(*, actor: User, stage: str, limit: int = 50) -> tuple[list[Customer], int]:
    """Up to `limit` customers of the actor's book on one rung (by name), and how many in all."""
    qs = (
        customers_visible_to(actor)
        .filter(stage=stage)
        .select_related("account_manager")
        .order_by("name", "id")
    )
    rows = list(qs[:limit])
    return rows, len(rows) if len(rows) < limit else qs.count()


def stage_history(*, customer: Customer) -> QuerySet[StageChange]:
    return customer.stage_changes.select_related("changed_by").order_by("-changed_at", "-id")
