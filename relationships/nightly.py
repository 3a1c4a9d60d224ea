"""The nightly run: set-based SQL aggregates -> numpy -> bulk writes.

Steps, in order (each one reads what the previous ones left in the context):

1. ``metrics``: ONE aggregate over purchases (with FILTER clauses for the calibration,
   holdout and 12-month parts and the revenue of each calendar month retention needs),
   one over interactions and one over loyalty memberships, per customer, into numpy
   arrays (never a query per customer; the rows travel packed in one bytea).
2. ``model_fit``: BG/NBD and Gamma-Gamma fitted on the per-customer summaries, with
   a holdout error from a calibration/holdout split; one ModelFit row.
3. ``scores``: P(alive), expected purchases, CLV, value tiers, risk score and reasons
   (numpy), plus the whole book's tier and CLV counts for the admin dashboard.
4. ``flags``: raise a RiskFlag for customers over the threshold, clear recovered
   ones, keep the history. An open flag is the account manager's to-do: it records
   who was asked to act and the at-risk queue lists it; no interaction is invented.
5. ``retention``: RetentionSnapshot rows per month/quarter/year x cut, from the
   per-customer arrays (no query per cut or period).
6. ``write_metrics``: CustomerMetrics updated in place for every customer (last, because
   on PostgreSQL a full night rebuilds that table's indexes under an exclusive lock that
   lasts until the commit).

A night is full or incremental (``mode``; docs/analytics.md, section 9): an incremental
night starts from the per-customer arrays the previous night kept (NightlyState), reads
again only the customers something happened to, scores everyone, and writes only what
changed.

The whole run is one transaction, so a run that fails halfway leaves the previous
night's results in place; it runs under a lock so two runs never overlap, and is
idempotent per run date (a run date is "as of midnight starting that day").
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from customers.errors import Conflict, ValidationFailed
from customers.models import Customer, CustomerStatus, Purchase, Segment, Stage, User
from loyalty.models import EntryKind, LedgerEntry, Membership

from .analytics.clv import (
    BgNbdParams,
    GammaGammaParams,
    bgnbd_expected_purchases_at,
    bgnbd_p_alive,
    clv_discounted,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_error,
)
from .analytics.retention import churn_dates, periods_back, retention_figures
from .analytics.risk import Reasons, risk_scores, value_at_risk
from .analytics.valuation import strategic_score, value_tiers
from .models import (
    CustomerMetrics,
    CutKind,
    Defection,
    Interaction,
    InteractionKind,
    ModelFit,
    NightlyRun,
    NightlyState,
    PeriodKind,
    PurchaseRhythm,
    RelationshipStrategy,
    RelationshipType,
    RetentionSnapshot,
    RiskFlag,
    RunMode,
    RunStatus,
    Sentiment,
    StrategicAssessment,
)
from .services.ladder_rules import ladder_suggestions_refresh

BATCH = 2000
LOCK_KEY = 727_001  # pg advisory lock id of the nightly run
STALE_RUN = dt.timedelta(hours=6)  # a "running" row older than this is a crashed run
FIT_SAMPLE = 50_000  # customers the models are fitted on (a seeded sample beyond that)
PERIODS = ((PeriodKind.MONTH, 12), (PeriodKind.QUARTER, 8), (PeriodKind.YEAR, 3))
# For this transaction only (SET LOCAL). work_mem: the per-customer hash aggregates over
# 1M groups fit in memory instead of spilling to disk at the default 4MB (and the index
# rebuilds sort in memory). JIT stays on: it made the purchases pass ~10% faster (its
# FILTER aggregates are expression evaluation). synchronous_commit: a crash right after
# the commit can at worst lose the run itself (never corrupt anything); it is rerun.
SESSION_SETTINGS = ("work_mem = '256MB'", "maintenance_work_mem = '256MB'", "synchronous_commit = off")
STAGE_RANK = {s: i for i, s in enumerate(Stage.values)}
NAT = np.datetime64("NaT", "D")


def risk_threshold() -> int:
    return int(getattr(settings, "CRM_RISK_THRESHOLD", 60))


def holdout_days() -> int:
    return int(getattr(settings, "CRM_HOLDOUT_DAYS", 90))


class NightlyRunBusy(Conflict):
    pass


class IncrementalNotPossible(Conflict):
    pass


@dataclass
class RunContext:
    run_date: dt.date
    as_of: dt.datetime  # midnight at the start of run_date, local time
    rows: dict[str, int] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    mode: str = RunMode.FULL
    mode_reason: str = ""
    previous: NightlyRun | None = None  # the last successful run before this one
    full_date: dt.date | None = None  # the full night the summaries go back to (its fit is reused)
    changed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # customer ids
    watermarks: dict = field(default_factory=dict)
    # A full night's metrics UPDATE, left running while retention is computed (_settle).
    pending: tuple | None = None


# --- SQL helpers -----------------------------------------------------------------------


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _epoch_days(expr: str) -> str:
    """SQL turning a timestamp expression into days since 1970-01-01 (float)."""
    if _is_postgres():
        return f"(EXTRACT(EPOCH FROM {expr})::float8 / 86400.0)"
    return f"(julianday({expr}) - 2440587.5)"


def _epoch_days_of_date(expr: str) -> str:
    if _is_postgres():
        return f"({expr} - DATE '1970-01-01')"
    return f"(julianday({expr}) - 2440587.5)"


def _float(expr: str) -> str:
    """Numbers come back as float, not Decimal: building a million Decimals costs seconds."""
    return f"({expr})::float8" if _is_postgres() else expr


def _dt_param(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _fetch_floats(sql: str, params: list, ncols: int, raw: psycopg.Connection | None = None) -> np.ndarray:
    """Run a SELECT of ``ncols`` numeric columns and return an (n, ncols) float array,
    NaN for NULL. On PostgreSQL each row is packed server-side as one binary float8 array
    (array_send: a fixed 20-byte header, then a length and a big-endian float8 per value),
    the rows are concatenated into ONE bytea, and numpy reads that buffer: one value on
    the wire, no Python object per row. (A binary COPY arrives as one message per row, and
    iterating 8 million of them in Python took most of a minute; concatenating the values
    with || copied each row's bytes once per column.)"""
    if not _is_postgres():
        rows = _fetch(sql, params)
        return np.array(rows, dtype=float).reshape(-1, ncols)
    values = ", ".join(f"COALESCE(c{i}::float8, 'NaN'::float8)" for i in range(ncols))
    names = ", ".join(f"c{i}" for i in range(ncols))
    agg_sql = (
        f"SELECT string_agg(array_send(ARRAY[{values}]), ''::bytea) FROM ({sql}) AS q({names})"  # noqa: S608
    )
    if raw is None:
        connection.ensure_connection()
        raw = connection.connection
    # Django's cursors bind client-side, which cannot return binary; a plain psycopg
    # cursor on the same connection (same transaction) can. ``raw`` is passed by a
    # thread working for the run (Django's connections are per thread).
    with psycopg.Cursor(raw) as cursor:
        cursor.execute(agg_sql, params or None, binary=True)
        (blob,) = cursor.fetchone()
    if not blob:
        return np.zeros((0, ncols))
    fields = [("header", "V20")]
    for i in range(ncols):
        fields += [(f"l{i}", ">i4"), (f"v{i}", ">f8")]
    rows = np.frombuffer(blob, dtype=np.dtype(fields))
    return np.column_stack([rows[f"v{i}"].astype(float) for i in range(ncols)])


def _column(rows: list[tuple], i: int, dtype=float) -> np.ndarray:
    return np.array([r[i] if r[i] is not None else np.nan for r in rows], dtype=dtype)


def _days_to_datetime(days: float | None) -> dt.datetime | None:
    if days is None or not np.isfinite(days):
        return None
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=float(days))


def _money(value: float) -> Decimal:
    if not np.isfinite(value):
        return Decimal("0.00")
    return Decimal(f"{value:.2f}")


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


# --- Step 1: metrics ---------------------------------------------------------------------


def step_metrics(ctx: RunContext) -> int:
    """Per-customer summaries for the whole book. A full night aggregates every purchase,
    interaction and loyalty entry; an incremental night starts from the summaries the
    last run kept (NightlyState) and reads again only the customers something happened
    to (``_changed_customers``) and the ones new since."""
    if ctx.mode == RunMode.INCREMENTAL:
        fresh = _load_state(ctx)
        # Customers new since the last run, or edited since, are read again.
        changed = np.union1d(ctx.changed, fresh)
        ctx.changed = changed
        ctx.rows["changed_customers"] = int(changed.size)
        if changed.size:
            _load_customers(ctx, only=changed)
            _aggregate_purchases(ctx, only=changed)
            _aggregate_interactions(ctx, only=changed)
            _points_unused_since(ctx, only=changed)
        ids = ctx.data["ids"]
    else:
        _load_customers(ctx)
        ids = ctx.data["ids"]
        _aggregate_purchases(ctx)
        if _is_postgres():
            # PostgreSQL aggregates interactions (seconds, one core) while this process
            # fits the purchase models, which need only the purchase summaries (seconds
            # of scipy on the other core). Same connection and transaction: the thread
            # only waits on the query; nothing else touches the database meanwhile.
            raw = connection.connection
            with ThreadPoolExecutor(max_workers=1) as pool:
                interactions = pool.submit(_fetch_floats, *_interactions_query(ctx, None), 4, raw)
                ctx.data["fitted"] = _fit(ctx)
                _aggregate_interactions(ctx, rows=interactions.result())
        else:
            _aggregate_interactions(ctx)
        _points_unused_since(ctx)
    _load_side_tables(ctx)
    return int(ids.size)


def _load_customers(ctx: RunContext, *, only: np.ndarray | None = None) -> None:
    """Segment, manager, status, rung and acquisition date of every customer (a full
    night), or of ``only`` those into the arrays the state brought (an incremental one)."""
    cust = Customer._meta.db_table
    stage_rank = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(Stage.values))
    subset, subset_params = _only_clause("id", only)
    customers = _fetch_floats(
        f"SELECT id, COALESCE(segment_id, 0), COALESCE(account_manager_id, 0), "  # noqa: S608
        f"CASE WHEN status = %s THEN 1 ELSE 0 END, CASE stage {stage_rank} ELSE 0 END, "
        f"{_epoch_days_of_date('acquired_on')} FROM {cust} WHERE TRUE {subset} ORDER BY id",
        [CustomerStatus.DEFECTED, *subset_params],
        6,
    )
    customers = customers[np.argsort(customers[:, 0], kind="stable")]  # ids sorted for searchsorted
    d = ctx.data
    row_ids = customers[:, 0].astype(np.int64)
    values = {
        "segment": customers[:, 1].astype(np.int64),
        "manager": customers[:, 2].astype(np.int64),
        "defected_status": customers[:, 3] > 0,
        "stage_rank": customers[:, 4],
        "acquired_on": _to_dates(customers[:, 5]),
    }
    if only is None:
        d["ids"] = row_ids
        d.update(values)
        return
    where, found = _positions(d["ids"], row_ids)
    for name, column in values.items():
        d[name][where] = column[found]


# Summary arrays and what a customer with no rows gets.
SUMMARY_DEFAULTS = {
    "count": 0.0, "revenue": 0.0, "first": np.nan, "last": np.nan, "cal_count": 0.0,
    "cal_first": np.nan, "cal_last": np.nan, "cal_revenue": 0.0, "revenue_12m": 0.0,
    "complaints_30d": 0.0, "last_contact": np.nan, "points_unused_since": np.nan,
    "praise": 0.0,  # positive feedback interactions (the ladder's supporter rule)
}


def _positions(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``wanted`` sits in the sorted ``ids``: (positions of the ones
    present, mask over ``wanted`` of which are present)."""
    where = np.searchsorted(ids, wanted)
    found = where < ids.size
    found[found] = ids[where[found]] == wanted[found]
    return where[found], found


def _fill(ctx: RunContext, only: np.ndarray | None, row_ids: np.ndarray, values: dict[str, np.ndarray]) -> None:
    """Put per-customer values into the book-wide arrays. ``only``: the customers the
    query covered (an incremental night); the ones it returned no row for are reset to
    the defaults first (say, their only purchase was deleted)."""
    d = ctx.data
    n = d["ids"].size
    where, found = _positions(d["ids"], row_ids)
    covered = _positions(d["ids"], only)[0] if only is not None else None
    for name, column in values.items():
        if covered is None:
            d[name] = np.full(n, SUMMARY_DEFAULTS[name])
        elif name not in d:
            continue  # a figure only a full night needs (the model's calibration part)
        else:
            d[name][covered] = SUMMARY_DEFAULTS[name]
        sums = not np.isnan(SUMMARY_DEFAULTS[name])
        d[name][where] = np.nan_to_num(column[found]) if sums else column[found]


def _aggregate_purchases(ctx: RunContext, *, only: np.ndarray | None = None) -> None:
    """ONE pass over purchases per customer: whole history, calibration part and holdout
    part (for the model's holdout error), the last 365 days' revenue, and revenue per
    calendar month over the retention window. FILTER clauses and plain MIN/MAX of the
    timestamp (converted once per customer, not per row) keep the pass close to the
    floor; float8 sums are several times cheaper than numeric ones."""
    d = ctx.data
    as_of = ctx.as_of
    cal_end = as_of - dt.timedelta(days=holdout_days())
    year_ago = as_of - dt.timedelta(days=365)
    occ = "occurred_at"
    p = Purchase._meta.db_table
    amt = "amount::float8" if _is_postgres() else "amount"
    # Retention's month spans only on a full night (an incremental one keeps retention).
    months = _retention_months(ctx) if only is None else []
    month_sums = ", ".join(
        f"SUM({amt}) FILTER (WHERE {occ} >= %s AND {occ} < %s)" for _ in months
    )
    subset, subset_params = _only_clause("customer_id", only)
    sql = f"""
        SELECT customer_id,
               COUNT(*), SUM({amt}), {_epoch_days(f"MIN({occ})")}, {_epoch_days(f"MAX({occ})")},
               COUNT(*) FILTER (WHERE {occ} < %s),
               {_epoch_days(f"MIN({occ}) FILTER (WHERE {occ} < %s)")},
               {_epoch_days(f"MAX({occ}) FILTER (WHERE {occ} < %s)")},
               SUM({amt}) FILTER (WHERE {occ} < %s),
               SUM({amt}) FILTER (WHERE {occ} >= %s)
               {", " + month_sums if months else ""}
        FROM {p} WHERE {occ} < %s {subset} GROUP BY customer_id
    """  # noqa: S608
    c, y, a = _dt_param(cal_end), _dt_param(year_ago), _dt_param(as_of)
    cols = ["count", "revenue", "first", "last", "cal_count", "cal_first", "cal_last", "cal_revenue", "revenue_12m"]
    month_params = [_dt_param(bound) for _, lo, hi in months for bound in (lo, hi)]
    rows = _fetch_floats(
        sql, [c, c, c, c, y, *month_params, a, *subset_params], len(cols) + 1 + len(months)
    )
    _fill(ctx, only, rows[:, 0].astype(np.int64), {name: rows[:, i + 1] for i, name in enumerate(cols)})
    if only is None:
        n = d["ids"].size
        idx = np.searchsorted(d["ids"], rows[:, 0].astype(np.int64))
        month_rev = np.zeros((n, len(months)))
        month_rev[idx] = np.nan_to_num(rows[:, len(cols) + 1 :])
        d["month_rev"] = month_rev
        d["month_index"] = [m for m, _, _ in months]


def _only_clause(column: str, only: np.ndarray | None) -> tuple[str, list]:
    """``AND column = ANY(ids)`` for an incremental night (PostgreSQL only), else nothing."""
    if only is None:
        return "", []
    return f"AND {column} = ANY(%s)", [only.tolist()]


def _aggregate_interactions(ctx: RunContext, *, only: np.ndarray | None = None, rows: np.ndarray | None = None) -> None:
    """ONE aggregate over interactions: complaints in 30 days, last contact by the
    customer's current account manager, praise (positive feedback, for the ladder).
    ``rows``: the query's answer, fetched already (see step_metrics)."""
    if rows is None:
        rows = _fetch_floats(*_interactions_query(ctx, only), 4)
    _fill(
        ctx, only, rows[:, 0].astype(np.int64),
        {"complaints_30d": rows[:, 1], "last_contact": rows[:, 2], "praise": rows[:, 3]},
    )


def _interactions_query(ctx: RunContext, only: np.ndarray | None) -> tuple[str, list]:
    month_ago = ctx.as_of - dt.timedelta(days=30)
    i_t, c_t = Interaction._meta.db_table, Customer._meta.db_table
    subset, subset_params = _only_clause("i.customer_id", only)
    sql = f"""
        SELECT i.customer_id,
               COUNT(*) FILTER (WHERE i.kind = %s AND i.occurred_at >= %s),
               {_epoch_days("MAX(i.occurred_at) FILTER (WHERE i.author_id = c.account_manager_id)")},
               COUNT(*) FILTER (WHERE i.kind = %s AND i.sentiment >= %s)
        FROM {i_t} i JOIN {c_t} c ON c.id = i.customer_id
        WHERE i.occurred_at < %s {subset} GROUP BY i.customer_id
    """  # noqa: S608
    params = [
        InteractionKind.COMPLAINT, _dt_param(month_ago), InteractionKind.FEEDBACK, Sentiment.POSITIVE,
        _dt_param(ctx.as_of), *subset_params,
    ]
    return sql, params


def _load_side_tables(ctx: RunContext) -> None:
    """Small per-segment and per-customer side tables, read whole every night."""
    d = ctx.data
    ids = d["ids"]
    n = ids.size
    strategies = {s.segment_id: s for s in RelationshipStrategy.objects.all()}
    d["strategies"] = strategies
    seg_ids = d["segment"]
    inactivity = dict(Segment.objects.values_list("id", "inactivity_days"))

    def by_segment(values: dict, default: float) -> np.ndarray:
        """Per-customer values from a per-segment dict, by one fancy index (no loop)."""
        keys = np.array(sorted(values), dtype=np.int64)
        table = np.array([values[k] for k in keys.tolist()] + [default], dtype=float)
        where = np.searchsorted(keys, seg_ids)
        hit = (where < keys.size) & (keys[np.minimum(where, max(keys.size - 1, 0))] == seg_ids) if keys.size else np.zeros(n, dtype=bool)
        return table[np.where(hit, where, keys.size)]

    repeat_by_seg = {k: float(v.rhythm != PurchaseRhythm.FLING) for k, v in strategies.items()}
    d["expects_repeat"] = by_segment(repeat_by_seg, 1.0) > 0
    d["expected_gap"] = by_segment({k: float(v.expected_gap_days or np.nan) for k, v in strategies.items()}, np.nan)
    d["cost_to_serve"] = by_segment({k: float(v.cost_to_serve_per_year) for k, v in strategies.items()}, 0.0)
    d["inactivity_days"] = by_segment({k: float(v) for k, v in inactivity.items()}, 365.0)
    d["segment_names"] = dict(Segment.objects.values_list("id", "name"))
    d["manager_names"] = {u.pk: str(u) for u in User.objects.filter(pk__in=np.unique(d["manager"]).tolist())}

    manual = np.full(n, np.nan)
    reference = np.zeros(n)
    size = np.full(n, np.nan)
    assessments = list(
        StrategicAssessment.objects.values_list("customer_id", "score", "is_reference", "size_score")
    )
    if assessments:
        idx = np.searchsorted(ids, np.array([r[0] for r in assessments], dtype=np.int64))
        manual[idx] = _column(assessments, 1)
        reference[idx] = _column(assessments, 2)
        size[idx] = _column(assessments, 3)
    d["manual_strategic"], d["is_reference"], d["size_score"] = manual, reference, size

    defected = np.full(n, NAT, dtype="datetime64[D]")
    rows = list(
        Defection.objects.filter(defected_on__lte=ctx.run_date)
        .values("customer_id")
        .annotate(last=Max("defected_on"))
        .values_list("customer_id", "last")
    )
    if rows:
        idx = np.searchsorted(ids, np.array([r[0] for r in rows], dtype=np.int64))
        defected[idx] = np.array([np.datetime64(r[1], "D") for r in rows])
    d["defected_on"] = defected




def _points_unused_since(ctx: RunContext, *, only: np.ndarray | None = None) -> None:
    """For customers holding loyalty points: since when (days since 1970) they have not
    used them: their last redemption, or joining the program if they never redeemed.
    NaN for customers with no points. One grouped query over memberships and redemptions;
    the balance is today's (the ledger is not replayed for past run dates)."""
    m, e = Membership._meta.db_table, LedgerEntry._meta.db_table
    subset, subset_params = _only_clause("customer_id", only)
    sql = f"""
        SELECT m.customer_id, SUM(m.balance), MAX(r.last_redeem), MIN({_epoch_days("m.joined_at")})
        FROM {m} m LEFT JOIN (
            SELECT membership_id, MAX({_epoch_days("created_at")}) AS last_redeem FROM {e}
            WHERE kind = %s AND created_at < %s
              AND membership_id IN (SELECT id FROM {m} WHERE joined_at < %s {subset})
            GROUP BY membership_id
        ) r ON r.membership_id = m.id
        WHERE m.joined_at < %s {subset.replace("customer_id", "m.customer_id")}
        GROUP BY m.customer_id
    """  # noqa: S608
    as_of = _dt_param(ctx.as_of)
    rows = _fetch_floats(sql, [EntryKind.REDEEM, as_of, as_of, *subset_params, as_of, *subset_params], 4)
    rows = rows[rows[:, 1] > 0]  # holding points
    since = np.where(np.isnan(rows[:, 2]), rows[:, 3], rows[:, 2])
    _fill(ctx, only, rows[:, 0].astype(np.int64), {"points_unused_since": since})


# --- Incremental nights ------------------------------------------------------------------

EDIT_MARGIN = dt.timedelta(minutes=10)  # rows stamped before a run started, committed after it
WATERMARK_VERSION = 2  # bump when what CustomerMetrics stores for incremental nights changes


def id_margin() -> int:
    """Ids below a watermark that may still have been uncommitted when it was taken (a
    row's id is drawn at insert, it becomes visible at commit): the next night looks at
    them again. Rows of a transaction that stayed open longer than that many inserts by
    others are picked up by the weekly full run."""
    return int(getattr(settings, "CRM_NIGHTLY_ID_MARGIN", 10_000))


def full_run_every_days() -> int:
    return int(getattr(settings, "CRM_FULL_RUN_EVERY_DAYS", 7))


def incremental_max_share() -> float:
    return float(getattr(settings, "CRM_INCREMENTAL_MAX_SHARE", 0.10))


def _watermark_tables() -> dict[str, type]:
    from customers.models import AccountManagerAssignment

    return {
        "purchase": Purchase, "interaction": Interaction, "ledger": LedgerEntry,
        "membership": Membership, "assignment": AccountManagerAssignment,
    }


def _watermarks() -> dict:
    """The highest row id of each table a night reads, taken before it reads them: the
    next night looks at rows above them (less a margin for transactions that were still
    open) plus rows dated since this run's day."""
    qn = connection.ops.quote_name
    tables = _watermark_tables()
    maxima = ", ".join(f"(SELECT COALESCE(MAX(id), 0) FROM {qn(m._meta.db_table)})" for m in tables.values())  # noqa: S608
    sql = f"SELECT {maxima}"
    values = _fetch(sql, [])[0]
    marks = {k: int(v) for k, v in zip(tables, values, strict=True)}
    return {"version": WATERMARK_VERSION, "config": _config_fingerprint(), **marks}


def _config_fingerprint() -> str:
    """What every customer's numbers depend on besides their own rows: the segments'
    strategies and inactivity, and the thresholds. A change means a full night."""
    strategies = sorted(
        (s.segment_id, s.rhythm, s.expected_gap_days, str(s.cost_to_serve_per_year), sorted(s.relationship_types or []))
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
    prev = ctx.previous
    marks = prev.rows["watermarks"]
    margin = id_margin()
    lo, hi = prev_as_of, as_of = run_date_as_of(prev.run_date), ctx.as_of
    year, month = dt.timedelta(days=365), dt.timedelta(days=30)
    t = {name: connection.ops.quote_name(m._meta.db_table) for name, m in _watermark_tables().items()}
    cust = connection.ops.quote_name(Customer._meta.db_table)
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
        UNION SELECT id FROM {cust} WHERE updated_at >= %s
        UNION SELECT h.customer_id FROM (
            SELECT customer_id, SUM(balance) > 0 AS holding FROM {t["membership"]}
            WHERE joined_at < %s GROUP BY customer_id
        ) h LEFT JOIN {metrics} x ON x.customer_id = h.customer_id
         WHERE h.holding IS DISTINCT FROM (x.points_unused_since IS NOT NULL)
    """  # noqa: S608
    p = _dt_param
    since = p(prev.started_at - EDIT_MARGIN)

    def new_rows(table: str) -> list:
        return [marks[table], marks[table] - margin, since]

    params = [
        *new_rows("purchase"), p(lo), p(hi), p(prev_as_of - year), p(as_of - year),
        *new_rows("interaction"), p(lo), p(hi), InteractionKind.COMPLAINT, p(prev_as_of - month), p(as_of - month),
        *new_rows("ledger"), p(lo), p(hi),
        *new_rows("membership"), p(lo), p(hi),
        *new_rows("assignment"),
        since,
        p(as_of),
    ]
    found = _fetch_floats(sql, params, 1)
    return np.unique(found[:, 0].astype(np.int64))


def _incremental_blocker(ctx: RunContext) -> str:
    """Why this night cannot be incremental ("" when it can). Fills ctx.previous,
    ctx.full_date and ctx.changed on the way."""
    if not _is_postgres():
        return "incremental nights need PostgreSQL (a demo book runs in full in seconds)"
    # The same date counts: running a night again after a correction or an import
    # starts from what that night stored.
    done = NightlyRun.objects.filter(status=RunStatus.SUCCEEDED, run_date__lte=ctx.run_date).order_by("-run_date")
    ctx.previous = prev = done.first()
    if prev is None:
        return "no earlier successful run to start from"
    marks = (prev.rows or {}).get("watermarks") or {}
    state = NightlyState.objects.filter(run=prev).only("id", "version", "customers").first()
    if marks.get("version") != WATERMARK_VERSION or state is None or state.version != WATERMARK_VERSION:
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
    if _month_index(ctx.run_date - dt.timedelta(days=1)) != _month_index(full - dt.timedelta(days=1)):
        return "a new month: retention is recomputed"
    fit = ModelFit.objects.filter(run_date=full).first()
    if fit is None or fit.bgnbd_r is None:
        return f"the full run of {full} fitted no purchase model"
    ctx.changed = _changed_customers(ctx)
    share = ctx.changed.size / max(state.customers, 1)
    if share > incremental_max_share():
        return f"{share:.0%} of the book changed since {prev.run_date} (more than {incremental_max_share():.0%})"
    return ""


def _marks_kept(ctx: RunContext) -> dict:
    """What the next night starts from: the watermarks taken before this one read
    anything, and the full night whose fit the summaries were scored with."""
    if not ctx.watermarks:
        return {}
    full = ctx.run_date if ctx.mode == RunMode.FULL else ctx.full_date
    return {**ctx.watermarks, "full_run": full.isoformat()}


def _choose_mode(ctx: RunContext, requested: str) -> None:
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
        f"{ctx.changed.size:,} customers changed since the run of {ctx.previous.run_date}; "
        f"models of the full run of {ctx.full_date}"
    )


STATE_ARRAYS = (
    "ids", "segment", "manager", "defected_status", "stage_rank", "acquired_on", "count", "revenue",
    "first", "last", "revenue_12m", "complaints_30d", "last_contact", "points_unused_since", "praise",
)
STATE_DEFAULTS = {
    "segment": 0, "manager": 0, "defected_status": False, "stage_rank": 0.0, "acquired_on": NAT,
    **SUMMARY_DEFAULTS,
}


def _save_state(ctx: RunContext, run: NightlyRun) -> None:
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
            [run.pk, WATERMARK_VERSION, int(ctx.data["ids"].size), buffer.getvalue(), timezone.now()],
        )


def _state_arrays(run: NightlyRun) -> bytes:
    table = connection.ops.quote_name(NightlyState._meta.db_table)
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(f"SELECT arrays FROM {table} WHERE run_id = %s", [run.pk], binary=True)  # noqa: S608
        return cursor.fetchone()[0]


def _load_state(ctx: RunContext) -> np.ndarray:
    """The previous night's summaries as this night's arrays, lined up with the customers
    in the book now (one index-only read of their ids): customers deleted since are
    dropped, new ones get the defaults. Returns the new ones' ids."""
    stored = np.load(io.BytesIO(_state_arrays(ctx.previous)))
    table = connection.ops.quote_name(Customer._meta.db_table)
    ids = np.sort(_fetch_floats(f"SELECT id FROM {table}", [], 1)[:, 0].astype(np.int64))  # noqa: S608
    where, found = _positions(ids, stored["ids"])
    d = ctx.data
    d["ids"] = ids
    for name in STATE_ARRAYS[1:]:
        old = stored[name]
        d[name] = np.full(ids.size, STATE_DEFAULTS[name], dtype=old.dtype)
        d[name][where] = old[found]
    known = np.zeros(ids.size, dtype=bool)
    known[where] = True
    return ids[~known]


# --- Step 2: model fit -------------------------------------------------------------------


def _rft(count, first, last, end_day):
    """Frequency (repeat purchases), recency and T in days for customers with purchases."""
    frequency = np.maximum(count - 1, 0)
    recency = np.maximum(last - first, 0)
    big_t = np.maximum(end_day - first, recency)
    return frequency, recency, big_t


def _sample(mask: np.ndarray, seed: int) -> np.ndarray:
    where = np.flatnonzero(mask)
    if where.size <= FIT_SAMPLE:
        return where
    # A fixed seed per run date keeps the run idempotent.
    return np.sort(np.random.default_rng(seed).choice(where, FIT_SAMPLE, replace=False))


def step_model_fit(ctx: RunContext) -> int:
    if ctx.mode == RunMode.INCREMENTAL:
        return _reuse_fit(ctx)
    return _fit_models(ctx)


def _summaries_for_models(ctx: RunContext) -> None:
    d = ctx.data
    end_day = ctx.as_of.timestamp() / 86400.0
    buyers = d["count"] > 0
    d["frequency"], d["recency"], d["T"] = _rft(d["count"], d["first"], d["last"], end_day)
    d["monetary"] = np.where(buyers, d["revenue"] / np.maximum(d["count"], 1), np.nan)


def _reuse_fit(ctx: RunContext) -> int:
    """An incremental night scores with the models the last full run fitted: a day's
    purchases by 1% of the book do not move population parameters fitted on 50,000
    customers, and the weekly full run refits them."""
    _summaries_for_models(ctx)
    source = ModelFit.objects.get(run_date=ctx.full_date)
    bg = BgNbdParams(r=source.bgnbd_r, alpha=source.bgnbd_alpha, a=source.bgnbd_a, b=source.bgnbd_b)
    gg = None
    if source.gg_p is not None:
        gg = GammaGammaParams(p=source.gg_p, q=source.gg_q, v=source.gg_v)
    ctx.data["fit"] = {"bg": bg, "gg": gg, "mae": source.holdout_mae, "note": source.note}
    values = {
        f.name: getattr(source, f.name)
        for f in ModelFit._meta.concrete_fields
        if f.name not in {"id", "run_date", "created_at", "note"}
    }
    values["note"] = f"Fitted by the full run of {source.run_date}; reused by this incremental night."
    if source.run_date != ctx.run_date:  # (running the full night's date again keeps its fit)
        ModelFit.objects.update_or_create(run_date=ctx.run_date, defaults=values)
    return 0


def _fit_models(ctx: RunContext) -> int:
    values = ctx.data.pop("fitted", None) or _fit(ctx)
    ModelFit.objects.update_or_create(run_date=ctx.run_date, defaults=values)
    return 1


def _fit(ctx: RunContext) -> dict:
    """Fit both purchase models (numpy and scipy only: no database, so it can run while
    PostgreSQL works for the metrics step); returns the ModelFit values."""
    d = ctx.data
    end_day = (ctx.as_of.timestamp()) / 86400.0
    cal_end_day = end_day - holdout_days()
    buyers = d["count"] > 0
    _summaries_for_models(ctx)
    frequency, recency, big_t, monetary = d["frequency"], d["recency"], d["T"], d["monetary"]
    seed = ctx.run_date.toordinal()
    fit = {"bg": None, "gg": None, "mae": None, "note": ""}
    sample = _sample(buyers, seed)
    repeaters = int((frequency[buyers] > 0).sum())
    if sample.size < 3 or repeaters < 2:
        fit["note"] = "Too few customers with purchases to fit the purchase model."
    else:
        bg = fit_bgnbd(
            frequency=frequency[sample], recency=recency[sample], T=big_t[sample], penalizer=0.001
        )
        fit["bg"] = bg
        try:
            fit["gg"] = fit_gamma_gamma(
                frequency=frequency[sample], monetary_value=monetary[sample], penalizer=0.001
            )
        except ValueError as exc:
            fit["note"] = f"Spend model not fitted: {exc}."
        # Holdout: fit on purchases before the calibration end, predict the holdout window.
        cal_buyers = d["cal_count"] > 0
        cal_sample = _sample(cal_buyers, seed + 1)
        if cal_sample.size >= 3 and int((d["cal_count"][cal_sample] > 1).sum()) >= 2:
            fc, rc, tc = _rft(d["cal_count"], d["cal_first"], d["cal_last"], cal_end_day)
            cal_fit = fit_bgnbd(
                frequency=fc[cal_sample], recency=rc[cal_sample], T=tc[cal_sample], penalizer=0.001
            )
            fit["mae"] = holdout_error(
                cal_fit,
                frequency_cal=fc[cal_sample],
                recency_cal=rc[cal_sample],
                T_cal=tc[cal_sample],
                frequency_holdout=(d["count"] - d["cal_count"])[cal_sample],
                duration_holdout=float(holdout_days()),
            )
        else:
            fit["note"] = (fit["note"] + " Too little history for a holdout check.").strip()
    d["fit"] = fit
    bg, gg = fit["bg"], fit["gg"]
    values = {
        "n_customers": int(sample.size),
        "bgnbd_r": bg.r if bg else None,
        "bgnbd_alpha": bg.alpha if bg else None,
        "bgnbd_a": bg.a if bg else None,
        "bgnbd_b": bg.b if bg else None,
        "gg_p": gg.p if gg else None,
        "gg_q": gg.q if gg else None,
        "gg_v": gg.v if gg else None,
        "holdout_days": holdout_days(),
        "holdout_mae": fit["mae"],
        "note": fit["note"][:300],
    }
    return values


# --- Step 3: scores ----------------------------------------------------------------------


METRIC_FIELDS = [
    "computed_for", "first_purchase_at", "last_purchase_at", "purchase_count", "revenue",
    "usual_gap_days", "days_since_last_purchase", "complaints_30d", "last_manager_contact_at",
    "p_alive", "expected_purchases_30d", "expected_purchases_90d", "expected_purchases_365d",
    "clv_12m", "value_at_risk", "financial_value", "strategic_value", "financial_band",
    "strategic_band", "risk_score", "reasons", "revenue_12m", "points_unused_since",
]


def step_scores(ctx: RunContext) -> int:
    d = ctx.data
    n = d["ids"].size
    end_day = ctx.as_of.timestamp() / 86400.0
    buyers = d["count"] > 0
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
                bg, gg, frequency=x[b], recency=t_x[b], T=big_t[b],
                monetary_value=d["monetary"][b], months=12,
            )
        else:
            revenue_value[b] = expected[365][b] * d["monetary"][b]
    # CLV over the next 12 months: discounted expected revenue less what serving the
    # customer costs while they stay (the segment's cost to serve, weighted by P(alive)).
    alive_for_cost = np.where(np.isnan(p_alive), np.where(buyers, 1.0, 0.0), p_alive)
    clv = revenue_value - d["cost_to_serve"] * alive_for_cost
    var = np.maximum(value_at_risk(np.maximum(clv, 0.0), np.nan_to_num(p_alive, nan=1.0)), 0.0)

    since_last = np.where(buyers, end_day - d["last"], np.nan)
    # The customer's own rhythm once it is seen twice; before that, the segment's promise.
    own_gap = np.where(d["count"] >= 2, (d["last"] - d["first"]) / np.maximum(d["count"] - 1, 1), np.nan)
    usual_gap = np.where(d["count"] >= 3, own_gap, d["expected_gap"])
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
        p_alive=p_alive, clv=clv, var=var, scores=scores, reasons=reasons,
        fin_band=fin_band, strat_band=strat_band,
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
    }
    d["metric_columns"] = columns
    d["dashboard"] = _dashboard_summary(columns, d["manager"], d["stage_rank"])
    return n


def _dashboard_summary(c: dict[str, np.ndarray], managers: np.ndarray, stages: np.ndarray) -> dict:
    """The value-tier grid, CLV histogram and ladder (stage rank) counts of the whole
    book and of each account
    manager's book (as assigned at the run), stored on the run so the dashboard reads
    them instead of aggregating up to a million rows per view. Same buckets as
    analytics_selectors counts live (CLV as stored: rounded to cents)."""
    from .selectors.analytics import CLV_EDGES

    fin = np.asarray(c["financial_band"], dtype=np.int64)
    strat = np.asarray(c["strategic_band"], dtype=np.int64)
    buyers = np.asarray(c["purchase_count"]) > 0
    bucket = np.searchsorted(np.array(CLV_EDGES, dtype=float), np.asarray(c["clv_12m"]), side="right")

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
        "tiers": counts(fin, strat), "clv": counts(bucket[buyers]), "stages": counts(stage), "managers": {},
    }
    by_manager = summary["managers"]
    for m, st, k in counts(managers, stage):
        if m:
            by_manager.setdefault(str(m), {"tiers": [], "clv": [], "stages": []})["stages"].append([st, k])
    for m, f, s, k in counts(managers, fin, strat):
        if m:
            by_manager.setdefault(str(m), {"tiers": [], "clv": [], "stages": []})["tiers"].append([f, s, k])
    for m, b, k in counts(managers[buyers], bucket[buyers]):
        if m:
            by_manager.setdefault(str(m), {"tiers": [], "clv": [], "stages": []})["clv"].append([b, k])
    return summary


def step_write_metrics(ctx: RunContext) -> int:
    """Store the scores step's numbers as CustomerMetrics. Late on purpose: on PostgreSQL
    a full night rebuilds the table's indexes under an exclusive lock (see
    _write_metrics_copy), which then lasts only until the commit soon after it."""
    d = ctx.data
    if not _is_postgres():
        return _write_metrics_orm(ctx, _as_python(d["metric_columns"]), d["reasons"].take(np.arange(d["ids"].size)))
    if ctx.mode == RunMode.INCREMENTAL:
        # The customers re-aggregated tonight, and those whose flag was raised or cleared
        # (the customer page and the at-risk queue tell the same story). The others keep
        # the row of the night they last changed, as their open flag does: its
        # computed_for says so, and the weekly full night brings every row up to date.
        rows = np.union1d(_positions(d["ids"], ctx.changed)[0], d["flag_rows"])
        return _write_metrics_copy(ctx, d["metric_columns"], d["reasons"], rows=rows)
    return _write_metrics_copy(ctx, d["metric_columns"], d["reasons"])


MONEY_COLUMNS = frozenset({"revenue", "revenue_12m", "clv_12m", "value_at_risk", "financial_value"})
INT_COLUMNS = {
    "customer_id", "purchase_count", "days_since_last_purchase", "complaints_30d",
    "financial_band", "strategic_band", "risk_score",
}


def _as_python(columns: dict[str, np.ndarray]) -> dict[str, list]:
    out = {}
    for name, values in columns.items():
        values = np.asarray(values, dtype=float)
        if name in INT_COLUMNS:
            out[name] = [None if v != v else int(v) for v in values.tolist()]
        else:
            out[name] = _nullable(values)
    return out


def _nullable(values: np.ndarray) -> list:
    return [None if v != v else v for v in values.tolist()]  # NaN is the only v != v


def _write_metrics_orm(ctx: RunContext, c: dict, reasons: list) -> int:
    """Portable path (SQLite): bulk upserts in batches."""
    written = 0
    objs: list[CustomerMetrics] = []
    for i in range(len(c["customer_id"])):
        objs.append(
            CustomerMetrics(
                customer_id=c["customer_id"][i],
                computed_for=ctx.run_date,
                first_purchase_at=_days_to_datetime(c["first_days"][i]),
                last_purchase_at=_days_to_datetime(c["last_days"][i]),
                purchase_count=c["purchase_count"][i],
                revenue=_money(c["revenue"][i]),
                usual_gap_days=c["usual_gap_days"][i],
                days_since_last_purchase=c["days_since_last_purchase"][i],
                complaints_30d=c["complaints_30d"][i],
                last_manager_contact_at=_days_to_datetime(c["contact_days"][i]),
                p_alive=c["p_alive"][i],
                expected_purchases_30d=c["expected_purchases_30d"][i],
                expected_purchases_90d=c["expected_purchases_90d"][i],
                expected_purchases_365d=c["expected_purchases_365d"][i],
                clv_12m=_money(c["clv_12m"][i]),
                value_at_risk=_money(c["value_at_risk"][i]),
                financial_value=_money(c["financial_value"][i]),
                strategic_value=c["strategic_value"][i],
                financial_band=c["financial_band"][i],
                strategic_band=c["strategic_band"][i],
                risk_score=c["risk_score"][i],
                reasons=reasons[i],
                revenue_12m=_money(c["revenue_12m"][i]),
                points_unused_since=_days_to_datetime(c["points_days"][i]),
            )
        )
        if len(objs) >= BATCH:
            written += _upsert_metrics(objs)
            objs = []
    if objs:
        written += _upsert_metrics(objs)
    return written


def _upsert_metrics(objs: list[CustomerMetrics]) -> int:
    CustomerMetrics.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["customer"], update_fields=METRIC_FIELDS
    )
    return len(objs)


# PostgreSQL's binary numeric: digit count, weight, sign, display scale, then base-10000
# digits. Money goes over as exact cents in five digits (four whole, one for the cents:
# up to 10^16, beyond numeric(16, 2)); the server strips the leading zeros. Converting a
# float8 to numeric on the server prints and parses it, about 0.7 s per million values.
NUMERIC_DIGITS = 5
NUMERIC_NAN = 0xC000


def _money_fields(k: str) -> list[tuple[str, str]]:
    return [(f"l_{k}", ">i4"), (f"{k}_ndigits", ">i2"), (f"{k}_weight", ">i2"), (f"{k}_sign", ">u2"),
            (f"{k}_dscale", ">i2"), (f"{k}_digits", ">i2", (NUMERIC_DIGITS,))]


def _put_money(rows: np.ndarray, k: str, values: np.ndarray) -> None:
    """Fill column ``k`` of the COPY rows with ``values`` (amounts, rounded to the cent
    like round(x, 2) on the server; NaN stays NaN) as binary numerics."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    amounts = np.abs(np.where(finite, values, 0.0))
    if amounts.size and amounts.max() >= 1e14:
        raise ValueError(f"{k}: an amount of {amounts.max():.2f} does not fit numeric(16, 2)")
    cents = np.rint(amounts * 100).astype(np.int64)
    rows[f"{k}_sign"] = np.where(finite, np.where((values < 0) & (cents > 0), 0x4000, 0), NUMERIC_NAN)
    digits = np.empty((values.size, NUMERIC_DIGITS), dtype=np.int64)
    digits[:, -1] = cents % 100 * 100  # the cents, as the first fractional base-10000 digit
    whole = cents // 100
    for i in range(NUMERIC_DIGITS - 2, -1, -1):
        digits[:, i] = whole % 10000
        whole //= 10000
    rows[f"{k}_digits"] = digits


def _copy_numbers(cursor, name: str, columns: dict[str, np.ndarray], money: frozenset[str] = frozenset()) -> None:
    """Create temporary table ``name`` (pos bigint: 1..n, then one float8 per column, NaN
    for NULL, or numeric for the ``money`` ones) and fill it with ONE binary COPY whose
    rows numpy lays out at once (fixed width), so no Python object is made per row: a
    template row with every length and constant is repeated, then each column is written
    in."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    fields = [("n", ">i2"), ("lpos", ">i4"), ("pos", ">i8")]
    for k in names:
        fields += _money_fields(k) if k in money else [(f"l_{k}", ">i4"), (k, ">f8")]
    dtype = np.dtype(fields)
    template = np.zeros(1, dtype=dtype)
    template["n"] = len(names) + 1
    template["lpos"] = 8
    for k in names:
        if k in money:
            template[f"l_{k}"] = 8 + 2 * NUMERIC_DIGITS
            template[f"{k}_ndigits"] = NUMERIC_DIGITS
            template[f"{k}_weight"] = NUMERIC_DIGITS - 2  # the first digit counts 10000^3
            template[f"{k}_dscale"] = 2
        else:
            template[f"l_{k}"] = 8
    raw = np.empty((n, dtype.itemsize), dtype=np.uint8)
    raw[:] = template.view(np.uint8)
    rows = raw.view(dtype).reshape(n)
    rows["pos"] = np.arange(1, n + 1)
    for k in names:
        if k in money:
            _put_money(rows, k, columns[k])
        else:
            rows[k] = np.asarray(columns[k], dtype=float)
    payload = memoryview(rows.tobytes())
    types = ", ".join(f"{k} {'numeric' if k in money else 'float8'}" for k in names)
    cursor.execute(f"CREATE TEMP TABLE {name} (pos bigint, {types}) ON COMMIT DROP")
    with cursor.cursor.copy(f"COPY {name} FROM STDIN (FORMAT binary)") as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))  # signature, flags, extension
        for start in range(0, len(payload), 1 << 23):
            copy.write(payload[start : start + (1 << 23)])
        copy.write(b"\xff\xff")


def _copy_rows(
    cursor,
    name: str,
    columns: dict[str, np.ndarray],
    reasons: Callable[[], tuple[np.ndarray, list[list[str]]]],
    money: frozenset[str] = frozenset(),
) -> str:
    """Stage rows for one set-based write: the numbers in temporary table ``name``
    (``_copy_numbers``) and the reasons of the rows that have any in ``{name}_reasons``
    (pos, value), from ONE jsonb array. ``reasons`` gives them (``Reasons.given``:
    positions from 0, and their lists); it writes half a million texts on a full night,
    in a thread while the numbers are copied (the copy mostly waits on the server).
    Returns the FROM clause joining the two as ``s`` and ``r`` (``REASONS`` is the value,
    [] for a row with none); the caller drops them (or the commit does)."""

    def as_params() -> list[str]:
        where, texts = reasons()
        return ["{" + ",".join(map(str, (where + 1).tolist())) + "}", json.dumps(texts, ensure_ascii=False)]

    with ThreadPoolExecutor(max_workers=1) as pool:
        params = pool.submit(as_params)
        _copy_numbers(cursor, name, columns, money)
        cursor.execute(
            f"CREATE TEMP TABLE {name}_reasons ON COMMIT DROP AS "  # noqa: S608 (our own table names)
            "SELECT pos, value FROM ROWS FROM (unnest(%s::bigint[]), jsonb_array_elements(%s::jsonb)) AS r(pos, value)",
            params.result(),
        )
    return f"{name} s LEFT JOIN {name}_reasons r ON r.pos = s.pos"


REASONS = "COALESCE(r.value, '[]'::jsonb)"


def _write_metrics_copy(
    ctx: RunContext, c: dict[str, np.ndarray], reasons: Reasons, *, rows: np.ndarray | None = None
) -> int:
    """PostgreSQL path: every customer's row (a full night) or the ``rows`` given (an
    incremental one), all inside the run's transaction (a failed run rolls it back):

    - ``_copy_rows``: numpy lays out every row of a binary COPY at once (fixed width:
      numbers as float8, NaN for NULL, money as exact numerics) into a temporary table,
      and the reasons of the rows that have any go to another one from ONE jsonb array.
      No Python object per number.
    - ONE ``UPDATE ... FROM`` rewrites the customers' rows in place (row ids kept) and
      ONE ``INSERT ... SELECT`` adds the customers who have none yet.

    A full night first drops the two secondary indexes (definitions read from the
    catalog, so they stay whatever the migrations made them) and builds them again after,
    in one sort each, instead of maintaining them row by row. Updating in place rather
    than emptying and refilling the table spares the foreign-key check of a million new
    rows (a trigger and a row lock on the customer each: ~6-10 s), since the key does not
    change. With the table's pages 45% full (migration 0010) each new version lands on the
    old one's page (a HOT update), and the next night prunes the old versions as it goes.
    Dropping the indexes locks the table until the commit soon after, so pages reading it
    wait those seconds at night instead of seeing half-written numbers.

    On a full night the UPDATE is left running in a thread (``ctx.pending``) and the rest
    (new rows, index rebuilds) waits for ``_settle``: retention, computed meanwhile,
    settles it before it writes."""
    started = time.perf_counter()
    table = CustomerMetrics._meta.db_table
    qn = connection.ops.quote_name
    if rows is not None:
        c = {k: np.asarray(v)[rows] for k, v in c.items()}
    n = len(c["customer_id"])
    if not n:
        return 0
    picked = rows if rows is not None else np.arange(len(reasons))
    with connection.cursor() as cursor:
        sources = _copy_rows(cursor, "nightly_metrics", c, lambda: reasons.given(picked), money=MONEY_COLUMNS)
        secondary = []
        if rows is None:
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
                [table],
            )
            secondary = cursor.fetchall()
            for name, _ in secondary:
                cursor.execute(f"DROP INDEX {qn(name)}")
        ts = "to_timestamp(NULLIF(s.{}, 'NaN') * 86400.0)"
        select = {
            "customer_id": "s.customer_id::bigint",
            "computed_for": "%s::date",
            "first_purchase_at": ts.format("first_days"),
            "last_purchase_at": ts.format("last_days"),
            "last_manager_contact_at": ts.format("contact_days"),
            "points_unused_since": ts.format("points_days"),
            "usual_gap_days": "NULLIF(s.usual_gap_days, 'NaN')",
            "p_alive": "NULLIF(s.p_alive, 'NaN')",
            "days_since_last_purchase": "NULLIF(s.days_since_last_purchase, 'NaN')::integer",
            "reasons": REASONS,
        }
        for k in ("purchase_count", "complaints_30d"):
            select[k] = f"s.{k}::integer"
        for k in ("financial_band", "strategic_band", "risk_score"):
            select[k] = f"s.{k}::smallint"
        exprs = {f: select.get(f, f"s.{f}") for f in METRIC_FIELDS}
    update = (
        f"UPDATE {qn(table)} AS m SET {', '.join(f'{f} = {e}' for f, e in exprs.items())} "  # noqa: S608
        f"FROM {sources} WHERE m.customer_id = s.customer_id::bigint"
    )

    def finish(written: int) -> int:
        with connection.cursor() as cursor:
            if written < n:  # customers with no row yet (an anti-join of the whole book: skipped when none)
                cursor.execute(
                    f"INSERT INTO {qn(table)} (customer_id, {', '.join(exprs)}) "  # noqa: S608
                    f"SELECT s.customer_id::bigint, {', '.join(exprs.values())} FROM {sources} "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {qn(table)} m WHERE m.customer_id = s.customer_id::bigint) "
                    "ORDER BY s.customer_id",
                    [ctx.run_date],
                )
                written += cursor.rowcount
            # The new rows' foreign-key checks now: an index cannot be built (nor the table
            # rewritten again in the same transaction) with checks pending.
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' AND condeferred",
                [table],
            )
            deferred_fks = ", ".join(qn(r[0]) for r in cursor.fetchall())
            if deferred_fks:
                cursor.execute(f"SET CONSTRAINTS {deferred_fks} IMMEDIATE")
                cursor.execute(f"SET CONSTRAINTS {deferred_fks} DEFERRED")
            for _, ddl in secondary:
                cursor.execute(ddl)
            cursor.execute("DROP TABLE nightly_metrics, nightly_metrics_reasons")
        return written

    if rows is None:
        # A full night: the UPDATE (seconds on one server core) goes on in a thread while
        # this process computes retention on the other core; _settle waits for it.
        ctx.pending = (_in_background(update, [ctx.run_date]), finish, started)
        return n
    with connection.cursor() as cursor:
        cursor.execute(update, [ctx.run_date])
        written = cursor.rowcount
    return finish(written)


def _in_background(sql: str, params: list):
    """Run one statement on the run's connection (same transaction) in a thread; returns
    its future (the row count). Until it is settled nothing else may use the connection
    (psycopg's connection lock would make it wait, never interleave)."""
    connection.ensure_connection()
    raw = connection.connection

    def run() -> int:
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(run)
    pool.shutdown(wait=False)
    return future


def _settle(ctx: RunContext, *, finish: bool = True) -> None:
    """Wait for the statement left running in the background, then do what follows it.
    ``finish=False``: the run is failing, only wait (the rollback needs the connection).
    write_metrics' duration and rows are then those of the whole write."""
    if ctx.pending is None:
        return
    future, then, started = ctx.pending
    ctx.pending = None
    if not finish:
        future.exception()
        return
    ctx.rows["write_metrics"] = int(then(future.result()))
    ctx.durations["write_metrics"] = round(time.perf_counter() - started, 3)


# --- Step 4: flags -----------------------------------------------------------------------


def step_flags(ctx: RunContext) -> int:
    d = ctx.data
    ids = d["ids"]
    # Idempotent per run date: undo what an earlier run of the same date did, then redo.
    RiskFlag.objects.filter(raised_on=ctx.run_date).delete()
    RiskFlag.objects.filter(cleared_on=ctx.run_date).update(cleared_on=None)

    eligible = ~d["defected_status"]
    over = (d["scores"] >= risk_threshold()) & eligible
    open_ids = np.array(
        sorted(RiskFlag.objects.filter(cleared_on__isnull=True).values_list("customer_id", flat=True)),
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
    if _is_postgres():
        raised = _insert_flags_copy(ctx, raise_idx)
    else:
        new_flags = [
            RiskFlag(
                customer_id=int(ids[i]),
                account_manager_id=int(d["manager"][i]) or None,
                raised_on=ctx.run_date,
                score=int(d["scores"][i]),
                reasons=why,
                value_at_risk=_money(d["var"][i]),
            )
            for i, why in zip(raise_idx.tolist(), d["reasons"].take(raise_idx), strict=True)
        ]
        raised = len(RiskFlag.objects.bulk_create(new_flags, batch_size=BATCH))
    keep_idx = np.flatnonzero(over & has_open)
    if ctx.mode == RunMode.INCREMENTAL:
        # An open flag carries the numbers of its customer's CustomerMetrics row, which an
        # incremental night rewrites only for the customers that changed.
        keep_idx = np.intersect1d(keep_idx, _positions(ids, ctx.changed)[0])
    _refresh_open_flags(d, keep_idx)
    d["flag_rows"] = np.union1d(np.union1d(raise_idx, keep_idx), np.flatnonzero(has_open & ~over))
    ctx.rows["flags_raised"] = raised
    ctx.rows["flags_cleared"] = cleared
    return raised + cleared


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
        sources = _copy_rows(
            cursor, "nightly_new_flags", columns, lambda: d["reasons"].given(raise_idx), money=frozenset({"var"})
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
    if _is_postgres():
        columns = {"customer_id": d["ids"][keep_idx], "score": d["scores"][keep_idx], "var": np.round(d["var"][keep_idx], 2)}
        with connection.cursor() as cursor:
            sources = _copy_rows(
                cursor, "nightly_open_flags", columns, lambda: d["reasons"].given(keep_idx), money=frozenset({"var"})
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
        flag.score, flag.reasons, flag.value_at_risk = score, why, _money(value)
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
    return ladder_suggestions_refresh(run_date=ctx.run_date, customer_ids=only, counts=_ladder_counts(ctx))


def _ladder_counts(ctx: RunContext) -> dict:
    d = ctx.data
    day_end = ctx.as_of + dt.timedelta(days=1)
    counts = {
        "ids": d["ids"], "stage_rank": d["stage_rank"], "defected": d["defected_status"],
        "purchases": d["count"].copy(), "praise": d["praise"].copy(),
    }
    same_day = {
        "purchases": Purchase.objects.all(),
        "praise": Interaction.objects.filter(kind=InteractionKind.FEEDBACK, sentiment__gte=Sentiment.POSITIVE),
    }
    for name, qs in same_day.items():
        rows = list(
            qs.filter(occurred_at__gte=ctx.as_of, occurred_at__lt=day_end)
            .order_by().values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n")
        )
        if rows:
            found = np.array(rows, dtype=np.int64)
            where, hit = _positions(d["ids"], found[:, 0])
            np.add.at(counts[name], where, found[hit, 1])
    return counts


# --- Step 5: retention -------------------------------------------------------------------


def _to_dates(days: np.ndarray) -> np.ndarray:
    """Days since 1970 (float, NaN for none) -> datetime64[D] (NaT for none), vectorised."""
    out = np.full(days.shape, NAT, dtype="datetime64[D]")
    known = np.isfinite(days)
    out[known] = np.floor(days[known]).astype(np.int64).astype("datetime64[D]")
    return out


def _lifetime(value: float | None) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def step_retention(ctx: RunContext) -> int:
    if ctx.mode == RunMode.INCREMENTAL:
        # Retention is about months, quarters and years: the latest full run's snapshots
        # stay (the dashboard reads the newest run that has them), and a new month always
        # gets a full run (_incremental_blocker).
        return 0
    d = ctx.data
    last_day = ctx.run_date - dt.timedelta(days=1)  # the last full day of data
    as_of_d = np.datetime64(last_day, "D")
    first_purchase = _to_dates(d["first"])
    last_purchase = _to_dates(d["last"])
    acquired = np.where(np.isnat(d["acquired_on"]), first_purchase, d["acquired_on"])
    # A defected customer with no defection record churned when they last bought.
    defected = d["defected_on"].copy()
    no_record = d["defected_status"] & np.isnat(defected)
    defected[no_record] = np.where(np.isnat(last_purchase[no_record]), acquired[no_record], last_purchase[no_record])
    churned = churn_dates(
        last_purchase=last_purchase,
        acquired=acquired,
        inactivity_days=d["inactivity_days"],
        defected_on=defected,
        transactional=~d["expects_repeat"],
        as_of=as_of_d,
    )

    periods = _retention_periods(ctx)
    month_rev = _monthly_revenue(d)

    # Each cut's customers, sliced once rather than once per period.
    cuts = [
        (kind, key, label, idx, acquired[idx], churned[idx])
        for kind, key, label, mask in _cuts(d, acquired)
        for idx in [np.flatnonzero(mask)]
    ]
    snapshots: list[RetentionSnapshot] = []
    for kind, bounds in periods.items():
        for start, end in bounds:
            length = (end - start).days + 1
            prev_start = start - dt.timedelta(days=length)
            rev_curr = month_rev(start, end)
            rev_prev = month_rev(prev_start, start - dt.timedelta(days=1))
            for cut_kind, cut_key, label, idx, cut_acquired, cut_churned in cuts:
                figures = retention_figures(
                    acquired=cut_acquired,
                    churned=cut_churned,
                    period_start=np.datetime64(start, "D"),
                    period_end=np.datetime64(min(end, last_day), "D"),
                    revenue_prev=rev_prev[idx],
                    revenue_curr=rev_curr[idx],
                )
                if cut_kind == CutKind.COHORT and figures.at_start == 0 and figures.new == 0:
                    continue  # a cohort not yet acquired in this period
                snapshots.append(
                    RetentionSnapshot(
                        run_date=ctx.run_date,
                        period_kind=kind,
                        period_start=start,
                        period_end=end,
                        cut_kind=cut_kind,
                        cut_key=cut_key,
                        cut_label=label[:200],
                        at_start=figures.at_start,
                        retained=figures.retained,
                        new=figures.new,
                        lost=figures.lost,
                        retention_rate=figures.retention_rate,
                        churn_rate=figures.churn_rate,
                        lifetime_periods=_lifetime(figures.expected_lifetime_periods),
                        revenue_retention=figures.revenue_retention,
                    )
                )
    _settle(ctx)  # the database is free again
    RetentionSnapshot.objects.filter(run_date=ctx.run_date).delete()
    RetentionSnapshot.objects.bulk_create(snapshots, batch_size=BATCH)
    return len(snapshots)


def _retention_periods(ctx: RunContext) -> dict[str, list[tuple[dt.date, dt.date]]]:
    last_day = ctx.run_date - dt.timedelta(days=1)  # the last full day of data
    return {kind: periods_back(kind, last_day, count) for kind, count in PERIODS}


def _retention_windows(ctx: RunContext) -> list[tuple[dt.date, dt.date]]:
    """Every (start, end) whose revenue step_retention asks for: each period and the
    period of the same length before it."""
    windows = []
    for bounds in _retention_periods(ctx).values():
        for start, end in bounds:
            length = (end - start).days + 1
            windows += [(start, end), (start - dt.timedelta(days=length), start - dt.timedelta(days=1))]
    return windows


def _retention_months(ctx: RunContext) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """The spans of whole calendar months (UTC) whose revenue the retention step needs,
    as (first month index, start, end): cut at every edge of a window, so each window is
    a run of consecutive spans. Fewer columns than one per month (the yearly windows
    need no monthly detail), and each is a FILTER that every purchase row is tested on."""
    windows = _retention_windows(ctx)
    edges = sorted({_month_index(lo) for lo, _ in windows} | {_month_index(hi) + 1 for _, hi in windows})

    def month_start(m: int) -> dt.datetime:
        return dt.datetime(m // 12, m % 12 + 1, 1, tzinfo=dt.UTC)

    return [(lo, month_start(lo), month_start(hi)) for lo, hi in itertools.pairwise(edges)]


def _monthly_revenue(d: dict) -> Callable:
    """Revenue per customer over whole calendar months, from the per-span sums the
    metrics step took in its single pass: (start, end) -> revenue per customer."""
    month_rev, firsts = d["month_rev"], d["month_index"]
    position = {m: i for i, m in enumerate(firsts)}

    def revenue(start: dt.date, end: dt.date) -> np.ndarray:
        lo = position[_month_index(start)]
        hi = position.get(_month_index(end) + 1, len(firsts))
        return month_rev[:, lo:hi].sum(axis=1)

    return revenue


def _cuts(d: dict, acquired: np.ndarray) -> list[tuple[str, str, str, np.ndarray]]:
    n = d["ids"].size
    cuts: list[tuple[str, str, str, np.ndarray]] = [(CutKind.ALL, "", "Whole book", np.ones(n, dtype=bool))]
    for seg_id in np.unique(d["segment"]):
        name = d["segment_names"].get(int(seg_id), "No segment")
        cuts.append((CutKind.SEGMENT, str(int(seg_id)), name, d["segment"] == seg_id))
    labels = dict(RelationshipType.choices)
    for code in RelationshipType.values:
        segs = [k for k, s in d["strategies"].items() if code in (s.relationship_types or [])]
        if segs:
            cuts.append((CutKind.RELATIONSHIP_TYPE, code, labels[code], np.isin(d["segment"], segs)))
    managers = d["manager_names"]
    for mgr in np.unique(d["manager"]):
        label = managers.get(int(mgr), "No account manager")
        cuts.append((CutKind.ACCOUNT_MANAGER, str(int(mgr)), label, d["manager"] == mgr))
    year_keys = np.where(
        np.isnat(acquired), 0, acquired.astype("datetime64[Y]").astype(np.int64) + 1970
    )
    for year in np.unique(year_keys):
        if year:
            cuts.append((CutKind.COHORT, str(int(year)), f"Acquired in {int(year)}", year_keys == year))
    return cuts


# --- The run -----------------------------------------------------------------------------

STEPS: tuple[tuple[str, str], ...] = (
    ("metrics", "step_metrics"),
    ("model_fit", "step_model_fit"),
    ("scores", "step_scores"),
    ("flags", "step_flags"),
    ("ladder", "step_ladder"),
    # Late: a full night drops and rebuilds CustomerMetrics' indexes, locking it until the
    # commit. Its UPDATE runs on the server while retention is computed here (_settle).
    ("write_metrics", "step_write_metrics"),
    ("retention", "step_retention"),
)


def run_date_as_of(run_date: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(run_date, dt.time()))


def _check_run_date(run_date: dt.date) -> None:
    if run_date > timezone.localdate():
        raise ValidationFailed(f"{run_date} is in the future: a run needs the day's data first.")
    later = NightlyRun.objects.filter(status=RunStatus.SUCCEEDED, run_date__gt=run_date).first()
    if later:
        raise Conflict(
            f"The run of {later.run_date} already succeeded; an earlier date would overwrite "
            "today's numbers with older ones."
        )


def nightly_run(
    *,
    run_date: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    mode: str = "auto",
) -> NightlyRun:
    """Run every step for ``run_date`` (default: today) in one transaction, under a lock.

    ``mode``: "full" recomputes everything; "incremental" starts from the previous run's
    stored summaries and aggregates only the customers something happened to (refused,
    with the reason, when that is not possible); "auto" (the schedule's) is incremental
    when possible and full otherwise: weekly, on a new month, after a configuration
    change, or when more than a tenth of the book changed."""
    if mode not in {"auto", RunMode.FULL, RunMode.INCREMENTAL}:
        raise ValidationFailed(f"Unknown mode {mode!r}: use auto, full or incremental.", field="mode")
    run_date = run_date or timezone.localdate()
    _check_run_date(run_date)
    if mode == RunMode.INCREMENTAL and not _is_postgres():
        raise IncrementalNotPossible("An incremental night is not possible: it needs PostgreSQL.")
    ctx = RunContext(run_date=run_date, as_of=run_date_as_of(run_date))
    if not _is_postgres():
        # SQLite has no advisory locks: a committed "running" row is the lock.
        with transaction.atomic():
            busy = NightlyRun.objects.filter(
                status=RunStatus.RUNNING, started_at__gt=timezone.now() - STALE_RUN
            ).first()
            if busy:
                raise NightlyRunBusy(f"The run of {busy.run_date} is still going; try again later.")
            _mark(run_date, status=RunStatus.RUNNING, started_at=timezone.now())
    try:
        with transaction.atomic():
            if _is_postgres():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
                    if not cursor.fetchone()[0]:
                        raise NightlyRunBusy("Another nightly run is still going; try again later.")
                    for setting in SESSION_SETTINGS:
                        cursor.execute(f"SET LOCAL {setting}")
                # Before this night reads anything: the next night starts from here.
                ctx.watermarks = _watermarks()
            started = timezone.now()
            t0 = time.perf_counter()
            _choose_mode(ctx, mode)
            ctx.durations["choose_mode"] = round(time.perf_counter() - t0, 3)
            _mark(run_date, status=RunStatus.RUNNING, started_at=started, mode=ctx.mode, mode_reason=ctx.mode_reason[:300])
            module = globals()
            try:
                for name, func in STEPS:
                    if progress:
                        progress(name)
                    t0 = time.perf_counter()
                    written = module[func](ctx)
                    ctx.durations[name] = round(time.perf_counter() - t0, 3)
                    ctx.rows[name] = int(written)
                _settle(ctx)
            except BaseException:
                _settle(ctx, finish=False)
                raise
            if _is_postgres():
                t0 = time.perf_counter()
                _save_state(ctx, NightlyRun.objects.get(run_date=run_date))
                ctx.durations["keep_state"] = round(time.perf_counter() - t0, 3)
                # Fresh statistics so the at-risk queue and dashboards plan for today's rows.
                # An incremental night changes too few metrics and no snapshots to matter.
                t0 = time.perf_counter()
                analyzed = (RiskFlag,) if ctx.mode == RunMode.INCREMENTAL else (CustomerMetrics, RiskFlag, RetentionSnapshot)
                with connection.cursor() as cursor:
                    for model in analyzed:
                        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
                ctx.durations["analyze"] = round(time.perf_counter() - t0, 3)
            return _mark(
                run_date,
                status=RunStatus.SUCCEEDED,
                started_at=started,
                finished_at=timezone.now(),
                rows={**ctx.rows, "dashboard": ctx.data.get("dashboard"), "watermarks": _marks_kept(ctx)},
                durations=ctx.durations,
                error="",
            )
    except (NightlyRunBusy, IncrementalNotPossible):
        raise  # nothing ran: the transaction rolled back before any step
    except Exception as exc:
        # Everything the steps wrote rolled back; record the failure on its own.
        _mark(
            run_date,
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            rows=ctx.rows,
            durations=ctx.durations,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise


def _mark(run_date: dt.date, **values) -> NightlyRun:
    run, _ = NightlyRun.objects.update_or_create(run_date=run_date, defaults=values)
    return run
