"""Incremental nights: the watermarks a night takes before it reads anything, which
customers changed since the previous run, whether tonight can be incremental, and the
per-customer summaries kept for the next night (NightlyState)."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from customers.dates import month_index
from customers.models import AccountManagerAssignment, Customer, Purchase, Segment
from loyalty.models import LedgerEntry, Membership

from ..community.selectors import ACTIVITY_DAYS, customers_with_activity_between
from ..models import (
    CustomerMetrics,
    Interaction,
    InteractionKind,
    ModelFit,
    NightlyRun,
    NightlyState,
    RelationshipStrategy,
    RunMode,
    RunStatus,
)
from .book import customer_rows, customer_values
from .context import (
    NAT,
    SUMMARY_DEFAULTS,
    IncrementalNotPossible,
    RunContext,
    holdout_days,
    positions,
    risk_threshold,
    run_date_as_of,
)
from .sql import dt_param, fetch, fetch_floats, is_postgres

EDIT_MARGIN = dt.timedelta(minutes=10)  # rows stamped before a run started, committed after it
WATERMARK_VERSION = 4  # bump when what CustomerMetrics stores for incremental nights changes


def id_margin() -> int:
    """Ids below a watermark that may still have been uncommitted when it was taken (a
    row's id is drawn at insert, it becomes visible at commit): the next night looks at
    them again. Rows of a transaction that stayed open longer than that many inserts by
    others are picked up by the weekly full run."""
    return int(settings.CRM_NIGHTLY_ID_MARGIN)


def full_run_every_days() -> int:
    return int(settings.CRM_FULL_RUN_EVERY_DAYS)


def incremental_max_share() -> float:
    return float(settings.CRM_INCREMENTAL_MAX_SHARE)


def _watermark_tables() -> dict[str, type[models.Model]]:
    return {
        "purchase": Purchase,
        "interaction": Interaction,
        "ledger": LedgerEntry,
        "membership": Membership,
        "assignment": AccountManagerAssignment,
    }


def take_watermarks() -> dict:
    """The highest row id of each table a night reads, taken before it reads them: the
    next night looks at rows above them (less a margin for transactions that were still
    open) plus rows dated since this run's day."""
    qn = connection.ops.quote_name
    tables = _watermark_tables()
    maxima = ", ".join(
        f"(SELECT COALESCE(MAX(id), 0) FROM {qn(m._meta.db_table)})"  # noqa: S608 (our table names)
        for m in tables.values()
    )
    sql = f"SELECT {maxima}"
    values = fetch(sql, [])[0]
    marks = {k: int(v) for k, v in zip(tables, values, strict=True)}
    return {"version": WATERMARK_VERSION, "config": _config_fingerprint(), **marks}


def _config_fingerprint() -> str:
    """What every customer's numbers depend on besides their own rows: the segments'
    strategies and inactivity, and the thresholds. A change means a full night."""
    strategies = sorted(
        (
            s.segment_id,
            s.rhythm,
            s.expected_gap_days,
            str(s.cost_to_serve_per_year),
            sorted(s.relationship_types or []),
        )
        for s in RelationshipStrategy.objects.all()
    )
    segments = sorted(Segment.objects.values_list("id", "inactivity_days"))
    return json.dumps([strategies, segments, risk_threshold(), holdout_days()], default=str)


def _changed_customers(ctx: RunContext) -> np.ndarray:
    """Customers whose summaries may differ from what the previous run stored: rows
    written since its watermarks or dated since its day (purchases, interactions,
    loyalty entries and memberships, reassignments), customers edited since it started,
    customers whose 12-month revenue or 30-day complaints lose a row to the passing days,
    and customers whose holding of loyalty points changed (pending points released).
    One statement; every part is an index range scan except the last two scans."""
    prev = ctx.previous_run()
    marks = prev.rows["watermarks"]
    margin = id_margin()
    lo, hi = prev_as_of, as_of = run_date_as_of(prev.run_date), ctx.as_of
    year, month = dt.timedelta(days=365), dt.timedelta(days=30)
    t = {
        name: connection.ops.quote_name(m._meta.db_table) for name, m in _watermark_tables().items()
    }
    metrics = connection.ops.quote_name(CustomerMetrics._meta.db_table)
    # A row is new when its id is above the watermark, or a little below it (drawn before
    # the watermark was taken, committed after) and stamped since that run started.
    new = "(id > %s OR (id > %s AND {stamp} >= %s))"
    sql = f"""
        SELECT customer_id FROM {t["purchase"]}
         WHERE {new.format(stamp="created_at")}
            OR (occurred_at >= %s AND occurred_at < %s) OR (occurred_at >= %s AND occurred_at < %s)
        UNION SELECT customer_id FROM {t["interaction"]}
         WHERE {new.format(stamp="created_at")} OR (occurred_at >= %s AND occurred_at < %s)
            OR (kind = %s AND occurred_at >= %s AND occurred_at < %s)
        UNION SELECT m.customer_id FROM {t["ledger"]} e JOIN {t["membership"]} m ON m.id = e.membership_id
         WHERE {new.format(stamp="e.created_at").replace("id >", "e.id >")} OR (e.created_at >= %s AND e.created_at < %s)
        UNION SELECT customer_id FROM {t["membership"]}
         WHERE {new.format(stamp="joined_at")} OR (joined_at >= %s AND joined_at < %s)
        UNION SELECT customer_id FROM {t["assignment"]} WHERE {new.format(stamp="started_at")}
        UNION SELECT h.customer_id FROM (
            SELECT customer_id, SUM(balance) > 0 AS holding FROM {t["membership"]}
            WHERE joined_at < %s GROUP BY customer_id
        ) h LEFT JOIN {metrics} x ON x.customer_id = h.customer_id
         WHERE h.holding IS DISTINCT FROM (x.points_unused_since IS NOT NULL)
    """  # noqa: S608
    p = dt_param
    since = p(prev.started_at - EDIT_MARGIN)

    def new_rows(table: str) -> list:
        return [marks[table], marks[table] - margin, since]

    params = [
        *new_rows("purchase"),
        p(lo),
        p(hi),
        p(prev_as_of - year),
        p(as_of - year),
        *new_rows("interaction"),
        p(lo),
        p(hi),
        InteractionKind.COMPLAINT,
        p(prev_as_of - month),
        p(as_of - month),
        *new_rows("ledger"),
        p(lo),
        p(hi),
        *new_rows("membership"),
        p(lo),
        p(hi),
        *new_rows("assignment"),
        p(as_of),
    ]
    found = fetch_floats(sql, params, 1)
    # Community rows dated since the last night's data ended, or leaving the 90-day window
    # (few rows: plain ORM reads, one per table).
    window = dt.timedelta(days=ACTIVITY_DAYS)
    community = customers_with_activity_between(
        [(prev_as_of - EDIT_MARGIN, as_of), (prev_as_of - window, as_of - window)]
    )
    community_ids = np.fromiter(community, dtype=np.int64, count=len(community))
    return np.union1d(
        np.union1d(found[:, 0].astype(np.int64), community_ids), _edited_customers(ctx, since)
    )


def _edited_customers(ctx: RunContext, since) -> np.ndarray:
    """Customers saved since the previous night began (less the margin) whose fields the
    night reads differ from what that night kept. Comparing with the kept state, not
    trusting the time stamp alone, keeps a bulk import or a freshly seeded book that the
    previous night already read from counting as "everyone changed"."""
    edited = customer_rows("updated_at >= %s", [since])
    if not edited.size:
        return np.empty(0, dtype=np.int64)
    stored = _stored_state(ctx)
    ids = edited[:, 0].astype(np.int64)
    where, found = positions(stored["ids"], ids)
    differs = np.ones(ids.size, dtype=bool)  # customers the previous night did not keep
    same = np.ones(where.size, dtype=bool)
    for name, column in customer_values(edited).items():
        kept, now = stored[name][where], column[found]
        same &= (kept == now) | (_missing(kept) & _missing(now))
    differs[found] = ~same
    return ids[differs]


def _missing(values: np.ndarray) -> np.ndarray:
    """NaT and NaN compare unequal to themselves; a missing date kept and still missing
    is no change."""
    if values.dtype.kind == "M":
        return np.isnat(values)
    if values.dtype.kind == "f":
        return np.isnan(values)
    return np.zeros(values.shape, dtype=bool)


def _incremental_blocker(ctx: RunContext) -> str:
    """Why this night cannot be incremental ("" when it can). Fills ctx.previous,
    ctx.full_date and ctx.changed on the way."""
    if not is_postgres():
        return "incremental nights need PostgreSQL (a demo book runs in full in seconds)"
    # The same date counts: running a night again after a correction or an import
    # starts from what that night stored.
    done = NightlyRun.objects.filter(
        status=RunStatus.SUCCEEDED, run_date__lte=ctx.run_date
    ).order_by("-run_date")
    ctx.previous = prev = done.first()
    if prev is None:
        return "no earlier successful run to start from"
    marks = (prev.rows or {}).get("watermarks") or {}
    state = NightlyState.objects.filter(run=prev).only("id", "version", "customers").first()
    if (
        marks.get("version") != WATERMARK_VERSION
        or state is None
        or state.version != WATERMARK_VERSION
    ):
        return f"the run of {prev.run_date} kept no summaries to start from"
    if marks.get("config") != _config_fingerprint():
        return f"segments, strategies or thresholds changed since the run of {prev.run_date}"
    full = marks.get("full_run")
    if not full:
        return "no earlier full run"
    ctx.full_date = full = dt.date.fromisoformat(full)
    every = full_run_every_days()
    if (ctx.run_date - full).days >= every:
        return f"a full run is due every {every} days (the last was {full})"
    if month_index(ctx.run_date - dt.timedelta(days=1)) != month_index(full - dt.timedelta(days=1)):
        return "a new month: retention is recomputed"
    fit = ModelFit.objects.filter(run_date=full).first()
    if fit is None or fit.bgnbd_r is None:
        return f"the full run of {full} fitted no purchase model"
    ctx.changed = _changed_customers(ctx)
    share = ctx.changed.size / max(state.customers, 1)
    if share > incremental_max_share():
        return f"{share:.0%} of the book changed since {prev.run_date} (more than {incremental_max_share():.0%})"
    return ""


def marks_kept(ctx: RunContext) -> dict:
    """What the next night starts from: the watermarks taken before this one read
    anything, and the full night whose fit the summaries were scored with."""
    if not ctx.watermarks:
        return {}
    full = ctx.run_date if ctx.mode == RunMode.FULL else ctx.full_run_date()
    return {**ctx.watermarks, "full_run": full.isoformat()}


def choose_mode(ctx: RunContext, requested: str) -> None:
    if requested == RunMode.FULL:
        ctx.mode, ctx.mode_reason = RunMode.FULL, "asked for a full run"
        return
    blocker = _incremental_blocker(ctx)
    if blocker:
        if requested == RunMode.INCREMENTAL:
            raise IncrementalNotPossible(f"An incremental night is not possible: {blocker}.")
        ctx.mode, ctx.mode_reason = RunMode.FULL, blocker
        return
    ctx.mode = RunMode.INCREMENTAL
    ctx.mode_reason = (
        f"{ctx.changed.size:,} customers changed since the run of {ctx.previous_run().run_date}; "
        f"models of the full run of {ctx.full_date}"
    )


STATE_ARRAYS = (
    "ids",
    "segment",
    "manager",
    "defected_status",
    "stage_rank",
    "acquired_on",
    "count",
    "revenue",
    "first",
    "last",
    "days",
    "first_day",
    "last_day",
    "repeat_revenue",
    "revenue_12m",
    "complaints_30d",
    "last_contact",
    "points_unused_since",
    "praise",
    "community_90d",
)
STATE_DEFAULTS = {
    "segment": 0,
    "manager": 0,
    "defected_status": False,
    "stage_rank": 0.0,
    "acquired_on": NAT,
    **SUMMARY_DEFAULTS,
}


def save_state(ctx: RunContext, run: NightlyRun) -> None:
    """Keep tonight's per-customer summaries for the next night (the latest only). The
    blob goes as a binary parameter: Django's cursor would inline ~100 MB as hex text
    into the statement (4 s instead of under one)."""
    buffer = io.BytesIO()
    np.savez(buffer, **{name: ctx.data[name] for name in STATE_ARRAYS})
    NightlyState.objects.all().delete()
    table = connection.ops.quote_name(NightlyState._meta.db_table)
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"INSERT INTO {table} (run_id, version, customers, arrays, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %b, %s)",
            [
                run.pk,
                WATERMARK_VERSION,
                int(ctx.data["ids"].size),
                buffer.getvalue(),
                timezone.now(),
            ],
        )


def _state_arrays(run: NightlyRun) -> bytes:
    table = connection.ops.quote_name(NightlyState._meta.db_table)
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(f"SELECT arrays FROM {table} WHERE run_id = %s", [run.pk], binary=True)  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError(f"the run of {run.run_date} kept no summaries")
    return row[0]


def _stored_state(ctx: RunContext):
    """The previous night's kept arrays (numpy loads each on first use), fetched once."""
    if "stored_state" not in ctx.data:
        ctx.data["stored_state"] = np.load(io.BytesIO(_state_arrays(ctx.previous_run())))
    return ctx.data["stored_state"]


def load_state(ctx: RunContext) -> np.ndarray:
    """The previous night's summaries as this night's arrays, lined up with the customers
    in the book now (one index-only read of their ids): customers deleted since are
    dropped, new ones get the defaults. Returns the new ones' ids."""
    stored = _stored_state(ctx)
    table = connection.ops.quote_name(Customer._meta.db_table)
    ids = np.sort(fetch_floats(f"SELECT id FROM {table}", [], 1)[:, 0].astype(np.int64))  # noqa: S608
    where, found = positions(ids, stored["ids"])
    d = ctx.data
    d["ids"] = ids
    for name in STATE_ARRAYS[1:]:
        old = stored[name]
        d[name] = np.full(ids.size, STATE_DEFAULTS[name], dtype=old.dtype)
        d[name][where] = old[found]
    known = np.zeros(ids.size, dtype=bool)
    known[where] = True
    return ids[~known]
