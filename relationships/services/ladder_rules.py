"""The ladder of loyalty's rule engine: rules that suggest moves up the ladder
(set-based, one pass over the whole book).

Rules only suggest; an account manager accepts or dismisses (services.ladder).
The first purchase (prospect -> customer) is applied directly by customers.services.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from customers.dates import local_midnight
from customers.errors import ValidationFailed
from customers.models import Customer, CustomerStatus, Purchase, Stage
from loyalty.models import LedgerEntry

from ..community.selectors import helpful_contributions
from ..models import Interaction, InteractionKind, LadderSuggestion, Sentiment, SuggestionStatus
from ..selectors.ladder import RANK, stage_rank

REPEAT_PURCHASES = 2  # two purchases or more make a client
ADVOCACY_EVENTS = ("referral", "review")  # loyalty event codes that speak for us in public
BATCH = 2000


def _grouped(qs: QuerySet, customer_path: str, *, minimum: int = 1) -> dict[int, tuple[str, int]]:
    """{customer id: (their stage, count)} for customers with at least `minimum` rows:
    one GROUP BY over the whole book."""
    return {
        pk: (stage, n)
        for pk, stage, n in qs.order_by()
        .values(customer_path, f"{customer_path}__stage")
        .annotate(n=Count("id"))
        .filter(n__gte=minimum)
        .values_list(customer_path, f"{customer_path}__stage", "n")
    }


def _below(stage: str, customer_ids: list[int] | None = None) -> QuerySet[Customer]:
    """Customers still in the book whose rung is below `stage` (the only ones a rule can lift)."""
    lower = [value for value, rank in RANK.items() if rank < RANK[stage]]
    qs = Customer.objects.exclude(status=CustomerStatus.DEFECTED).filter(stage__in=lower)
    return qs if customer_ids is None else qs.filter(pk__in=_only(customer_ids))


def _only(customer_ids: list[int]) -> RawSQL | list[int]:
    """Customer ids for an ``__in`` lookup: on PostgreSQL one array parameter (an IN list
    of 100,000 placeholders takes seconds to plan)."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (customer_ids,))
    return customer_ids


def _from_counts(
    counts: dict, name: str, below: str, minimum: int, customer_ids: list[int] | None
) -> dict[int, tuple[str, int]]:
    """The _grouped() answer from the nightly run's per-customer arrays."""
    n = counts[name]
    keep = (counts["stage_rank"] < RANK[below]) & ~counts["defected"] & (n >= minimum)
    if customer_ids is not None:
        keep &= np.isin(counts["ids"], np.asarray(customer_ids, dtype=np.int64))
    where = np.flatnonzero(keep)
    stages = Stage.values
    return {
        pk: (stages[int(rank)], int(k))
        for pk, rank, k in zip(
            counts["ids"][where].tolist(),
            counts["stage_rank"][where].tolist(),
            n[where].tolist(),
            strict=True,
        )
    }


def _candidates(
    run_date: dt.date, customer_ids: list[int] | None = None, counts: dict | None = None
) -> list[dict]:
    """Every customer with the rung the rules point to, when it is above their own and the
    same move was not dismissed before. Six grouped statements, whatever the book size;
    ``customer_ids`` limits them to those customers (an incremental night's changed ones).
    ``counts``: the nightly run's per-customer purchase and praise counts up to the end of
    ``run_date`` (see relationships.nightly.flags.step_ladder), which spare two passes
    over purchases and interactions."""
    day_end = local_midnight(run_date + dt.timedelta(days=1))
    advocacy = _grouped(
        LedgerEntry.objects.filter(
            event_code__in=ADVOCACY_EVENTS,
            effective_on__lte=run_date,
            membership__customer__in=_below(Stage.ADVOCATE, customer_ids),
        ),
        "membership__customer",
    )
    if counts is not None:
        praise = _from_counts(counts, "praise", Stage.SUPPORTER, 1, customer_ids)
        purchases = _from_counts(counts, "purchases", Stage.CLIENT, REPEAT_PURCHASES, customer_ids)
    else:
        praise = _grouped(
            Interaction.objects.filter(
                kind=InteractionKind.FEEDBACK,
                sentiment__gte=Sentiment.POSITIVE,
                occurred_at__lt=day_end,
                customer__in=_below(Stage.SUPPORTER, customer_ids),
            ),
            "customer",
        )
        purchases = _grouped(
            Purchase.objects.filter(
                occurred_at__lt=day_end, customer__in=_below(Stage.CLIENT, customer_ids)
            ),
            "customer",
            minimum=REPEAT_PURCHASES,
        )
    # Co-creation: a shipped idea or an approved review is the customer working with us.
    cocreation = helpful_contributions(
        customers=_below(Stage.SUPPORTER, customer_ids), until=day_end
    )
    dismissed = set(
        LadderSuggestion.objects.filter(status=SuggestionStatus.DISMISSED).values_list(
            "customer_id", "from_stage", "to_stage"
        )
    )
    rows = []
    # The highest rung a rule reaches wins: advocate over supporter over client.
    for pk in sorted(set(advocacy) | set(praise) | set(cocreation) | set(purchases)):
        for target, source, key in (
            (Stage.ADVOCATE, advocacy, "n_advocacy"),
            (Stage.SUPPORTER, praise, "n_praise"),
            (Stage.SUPPORTER, cocreation, "n_cocreation"),
            (Stage.CLIENT, purchases, "n_purchases"),
        ):
            if pk in source:
                stage, n = source[pk]
                if (pk, stage, target) not in dismissed:  # else a lower rule may still apply
                    rows.append({"pk": pk, "stage": stage, "target_stage": target.value, key: n})
                    break
    return rows


def _why(row: dict) -> tuple[str, str]:
    target = row["target_stage"]
    if target == Stage.ADVOCATE:
        n = row["n_advocacy"]
        return (
            "advocacy",
            f"{n:,} referral{'s' if n != 1 else ''} or review{'s' if n != 1 else ''} recorded in loyalty",
        )
    if target == Stage.SUPPORTER and "n_cocreation" in row:
        n = row["n_cocreation"]
        return (
            "co_creation",
            f"{n:,} helpful contribution{'s' if n != 1 else ''} in the community "
            "(shipped ideas, approved reviews, accepted answers)",
        )
    if target == Stage.SUPPORTER:
        n = row["n_praise"]
        return "praise", f"{n:,} positive feedback interaction{'s' if n != 1 else ''}"
    n = row["n_purchases"]
    return "repeat_purchases", f"{n:,} purchases (a client buys again)"


@transaction.atomic
def ladder_suggestions_refresh(
    *, run_date: dt.date, customer_ids: list[int] | None = None, counts: dict | None = None
) -> int:
    """Suggest moves for the book as of `run_date`; returns how many suggestions were made.

    Idempotent per date: a customer with an open suggestion keeps it (updated when a
    rule now points higher), a move once dismissed is not suggested again, and open
    suggestions the customer has since reached by hand are removed. A fixed number of
    grouped statements plus batched writes, whatever the size of the book
    (bench/ladder_bench.py prints the figures). ``customer_ids``: only these customers'
    rules are evaluated (the rules count purchases, interactions and loyalty events, so a
    customer with none of those since the last run cannot have a new move).
    """
    if run_date > timezone.localdate():
        raise ValidationFailed(
            "A run date after today is refused: its day has not ended.", field="run_date"
        )
    open_suggestions = LadderSuggestion.objects.filter(status=SuggestionStatus.OPEN)
    if customer_ids is not None:  # (moving a customer by hand marks them changed)
        open_suggestions = open_suggestions.filter(customer__in=_only(customer_ids))
    # Open suggestions the customer has already reached (moved by hand) no longer apply.
    open_suggestions.annotate(
        rank=stage_rank("customer__stage"), target=stage_rank("to_stage")
    ).filter(target__lte=F("rank")).delete()

    open_now = dict(open_suggestions.values_list("customer_id", "to_stage"))
    new, changed = [], []
    for row in _candidates(run_date, customer_ids, counts):
        rule, reason = _why(row)
        if row["pk"] in open_now:
            if open_now[row["pk"]] != row["target_stage"]:
                changed.append((row["pk"], row["stage"], row["target_stage"], rule, reason))
            continue
        new.append(
            LadderSuggestion(
                customer_id=row["pk"],
                from_stage=row["stage"],
                to_stage=row["target_stage"],
                rule=rule,
                reason=reason,
                created_on=run_date,
            )
        )
    LadderSuggestion.objects.bulk_create(new, batch_size=BATCH)
    if changed:
        # A rule now points higher: replace the open suggestion (delete + insert in bulk).
        LadderSuggestion.objects.filter(
            status=SuggestionStatus.OPEN, customer_id__in=[c[0] for c in changed]
        ).delete()
        LadderSuggestion.objects.bulk_create(
            [
                LadderSuggestion(
                    customer_id=pk,
                    from_stage=frm,
                    to_stage=to,
                    rule=rule,
                    reason=reason,
                    created_on=run_date,
                )
                for pk, frm, to, rule, reason in changed
            ],
            batch_size=BATCH,
        )
    return len(new) + len(changed)
