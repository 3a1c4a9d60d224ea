"""The flags step: raise a RiskFlag for customers over the threshold, clear recovered
ones, refresh the open ones, re-raise the handled ones still at risk, keep the history. An open flag is the account manager's
to-do: it records who was asked to act and the at-risk queue lists it; no interaction is
invented. And the ladder step: ladder moves suggested from the run's own counts."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection
from django.db.models import Count

from customers.models import Purchase

from ..models import Interaction, InteractionKind, RiskFlag, RunMode, Sentiment
from ..services.ladder_rules import ladder_suggestions_refresh
from .context import BATCH, RunContext, positions, risk_threshold
from .pg_copy import REASONS, copy_rows
from .sql import is_postgres, to_money


def step_flags(ctx: RunContext) -> int:
    d = ctx.data
    ids = d["ids"]
    # Idempotent per run date: undo what an earlier run of the same date did, then redo.
    RiskFlag.objects.filter(raised_on=ctx.run_date).delete()
    RiskFlag.objects.filter(cleared_on=ctx.run_date).update(cleared_on=None)
    RiskFlag.objects.filter(reraised_on=ctx.run_date).update(reraised_on=None)

    eligible = ~d["defected_status"]
    over = (d["scores"] >= risk_threshold()) & eligible
    open_ids = np.array(
        sorted(
            RiskFlag.objects.filter(cleared_on__isnull=True).values_list("customer_id", flat=True)
        ),
        dtype=np.int64,
    )
    has_open = np.isin(ids, open_ids)
    raise_idx = np.flatnonzero(over & ~has_open)
    clear_ids = ids[has_open & ~over].tolist()

    cleared = 0
    for start in range(0, len(clear_ids), BATCH):
        cleared += RiskFlag.objects.filter(
            customer_id__in=clear_ids[start : start + BATCH], cleared_on__isnull=True
        ).update(cleared_on=ctx.run_date)
    if is_postgres():
        raised = _insert_flags_copy(ctx, raise_idx)
    else:
        new_flags = [
            RiskFlag(
                customer_id=int(ids[i]),
                account_manager_id=int(d["manager"][i]) or None,
                raised_on=ctx.run_date,
                score=int(d["scores"][i]),
                reasons=why,
                value_at_risk=to_money(d["var"][i]),
            )
            for i, why in zip(raise_idx.tolist(), d["reasons"].take(raise_idx), strict=True)
        ]
        raised = len(RiskFlag.objects.bulk_create(new_flags, batch_size=BATCH))
    keep_idx = np.flatnonzero(over & has_open)
    if ctx.mode == RunMode.INCREMENTAL:
        # An open flag carries the numbers of its customer's CustomerMetrics row, which an
        # incremental night rewrites only for the customers that changed.
        keep_idx = np.intersect1d(keep_idx, positions(ids, ctx.changed)[0])
    _refresh_open_flags(d, keep_idx)
    ctx.rows["flags_reraised"] = _reraise_handled(ctx, ids[over & has_open])
    d["flag_rows"] = np.union1d(np.union1d(raise_idx, keep_idx), np.flatnonzero(has_open & ~over))
    ctx.rows["flags_raised"] = raised
    ctx.rows["flags_cleared"] = cleared
    return raised + cleared


def _reraise_handled(ctx: RunContext, still_at_risk: np.ndarray) -> int:
    """A handled flag whose customer is still over the threshold goes back among the
    unhandled ones, marked with the night that found it (reraised_on): the page says "still
    at risk after being handled on ..., <note>". Its handling is kept, not erased, so the
    message can quote it and a second run of the same date can undo the mark. Only flags
    handled before the night's data ends (as_of) count: a flag handled after it was handled
    on news this night has not seen. Handled flags that recovered were cleared above.
    Both modes alike: every customer's score is known, so an incremental night re-raises
    what a full one would. One read of the (few) handled flags, one UPDATE per batch."""
    handled = np.array(
        sorted(
            RiskFlag.objects.filter(
                cleared_on__isnull=True, handled=True, handled_at__lt=ctx.as_of
            ).values_list("customer_id", flat=True)
        ),
        dtype=np.int64,
    )
    again = handled[np.isin(handled, still_at_risk)].tolist()
    reraised = 0
    for start in range(0, len(again), BATCH):
        reraised += RiskFlag.objects.filter(
            customer_id__in=again[start : start + BATCH], cleared_on__isnull=True, handled=True
        ).update(reraised_on=ctx.run_date)
    return reraised


def _insert_flags_copy(ctx: RunContext, raise_idx: np.ndarray) -> int:
    """PostgreSQL: the new flags (tens of thousands on the first night) through one binary
    COPY and one INSERT ... SELECT instead of an ORM object each."""
    if not raise_idx.size:
        return 0
    d = ctx.data
    columns = {
        "customer_id": d["ids"][raise_idx],
        "manager": d["manager"][raise_idx],
        "score": d["scores"][raise_idx],
        "var": np.round(d["var"][raise_idx], 2),
    }
    with connection.cursor() as cursor:
        sources = copy_rows(
            cursor,
            "nightly_new_flags",
            columns,
            lambda: d["reasons"].given(raise_idx),
            money=frozenset({"var"}),
        )
        cursor.execute(
            f"INSERT INTO {RiskFlag._meta.db_table} "  # noqa: S608
            "(customer_id, account_manager_id, raised_on, cleared_on, score, reasons, value_at_risk) "
            "SELECT s.customer_id::bigint, NULLIF(s.manager, 0)::bigint, %s::date, NULL, s.score::integer, "
            f"{REASONS}, s.var FROM {sources} ORDER BY s.pos",
            [ctx.run_date],
        )
        raised = cursor.rowcount
        cursor.execute("DROP TABLE nightly_new_flags, nightly_new_flags_reasons")
    return raised


def _refresh_open_flags(d: dict, keep_idx: np.ndarray) -> None:
    """Flags that stay open carry today's score, reasons and value at risk, so the queue
    ranks by what is true this morning (a cleared flag keeps its last night's numbers)."""
    if not keep_idx.size:
        return
    if is_postgres():
        columns = {
            "customer_id": d["ids"][keep_idx],
            "score": d["scores"][keep_idx],
            "var": np.round(d["var"][keep_idx], 2),
        }
        with connection.cursor() as cursor:
            sources = copy_rows(
                cursor,
                "nightly_open_flags",
                columns,
                lambda: d["reasons"].given(keep_idx),
                money=frozenset({"var"}),
            )
            cursor.execute(
                f"UPDATE {RiskFlag._meta.db_table} AS f "  # noqa: S608
                f"SET score = s.score::integer, reasons = {REASONS}, value_at_risk = s.var "
                f"FROM {sources} WHERE f.customer_id = s.customer_id::bigint AND f.cleared_on IS NULL"
            )
            cursor.execute("DROP TABLE nightly_open_flags, nightly_open_flags_reasons")
        return
    customer_ids = d["ids"][keep_idx].tolist()
    scores = d["scores"][keep_idx].tolist()
    reasons = d["reasons"].take(keep_idx)
    values = np.round(d["var"][keep_idx], 2).tolist()
    flags = {f.customer_id: f for f in RiskFlag.objects.filter(cleared_on__isnull=True)}
    changed = []
    for cid, score, why, value in zip(customer_ids, scores, reasons, values, strict=True):
        flag = flags[cid]
        flag.score, flag.reasons, flag.value_at_risk = score, why, to_money(value)
        changed.append(flag)
    RiskFlag.objects.bulk_update(changed, ["score", "reasons", "value_at_risk"], batch_size=500)


# --- The ladder step (after retention in STEPS) -----------------------------------------


def step_ladder(ctx: RunContext) -> int:
    """Suggest ladder moves for the run's date; an incremental night looks only at the
    customers something happened to. The run has counted every customer's purchases and
    praise up to its midnight already; the rules count up to the end of the run's date,
    so only that day's rows are added here (two index range scans instead of two passes
    over every purchase and interaction)."""
    only = ctx.changed.tolist() if ctx.mode == RunMode.INCREMENTAL else None
    return ladder_suggestions_refresh(
        run_date=ctx.run_date, customer_ids=only, counts=_ladder_counts(ctx)
    )


def _ladder_counts(ctx: RunContext) -> dict:
    d = ctx.data
    day_end = ctx.as_of + dt.timedelta(days=1)
    counts = {
        "ids": d["ids"],
        "stage_rank": d["stage_rank"],
        "defected": d["defected_status"],
        "purchases": d["count"].copy(),
        "praise": d["praise"].copy(),
    }
    same_day = {
        "purchases": Purchase.objects.all(),
        "praise": Interaction.objects.filter(
            kind=InteractionKind.FEEDBACK, sentiment__gte=Sentiment.POSITIVE
        ),
    }
    for name, qs in same_day.items():
        rows = list(
            qs.filter(occurred_at__gte=ctx.as_of, occurred_at__lt=day_end)
            .order_by()
            .values("customer_id")
            .annotate(n=Count("id"))
            .values_list("customer_id", "n")
        )
        if rows:
            found = np.array(rows, dtype=np.int64)
            where, hit = positions(d["ids"], found[:, 0])
            np.add.at(counts[name], where, found[hit, 1])
    return counts
