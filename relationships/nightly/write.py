"""The write_metrics step: the scores step's numbers stored as CustomerMetrics, by bulk
upserts on SQLite and by one binary COPY and set-based statements on PostgreSQL (a full
night's UPDATE left running in the background until ``settle``)."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psycopg
from django.db import connection

from ..analytics.risk import Reasons
from ..models import CustomerMetrics, RunMode
from .context import BATCH, RunContext, positions
from .pg_copy import REASONS, copy_rows
from .sql import is_postgres, to_money

METRIC_FIELDS = [
    "computed_for",
    "first_purchase_at",
    "last_purchase_at",
    "purchase_count",
    "revenue",
    "usual_gap_days",
    "days_since_last_purchase",
    "complaints_30d",
    "last_manager_contact_at",
    "p_alive",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "clv_12m",
    "value_at_risk",
    "financial_value",
    "strategic_value",
    "financial_band",
    "strategic_band",
    "risk_score",
    "reasons",
    "revenue_12m",
    "points_unused_since",
    "community_90d",
]
# Written on full nights only (the columns are there then): what retention counted.
RETENTION_FIELDS = ["customer_since", "churned_on"]


def _fields(c: dict) -> list[str]:
    return METRIC_FIELDS + (RETENTION_FIELDS if "since_days" in c else [])


def step_write_metrics(ctx: RunContext) -> int:
    """Store the scores step's numbers as CustomerMetrics. Late on purpose: on PostgreSQL
    a full night rebuilds the table's indexes under an exclusive lock (see
    _write_metrics_copy), which then lasts only until the commit soon after it."""
    d = ctx.data
    if not is_postgres():
        return _write_metrics_orm(
            ctx, _as_python(d["metric_columns"]), d["reasons"].take(np.arange(d["ids"].size))
        )
    if ctx.mode == RunMode.INCREMENTAL:
        # The customers re-aggregated tonight, and those whose flag was raised or cleared
        # (the customer page and the at-risk queue tell the same story). The others keep
        # the row of the night they last changed, as their open flag does: its
        # computed_for says so, and the weekly full night brings every row up to date.
        rows = np.union1d(positions(d["ids"], ctx.changed)[0], d["flag_rows"])
        return _write_metrics_copy(ctx, d["metric_columns"], d["reasons"], rows=rows)
    return _write_metrics_copy(ctx, d["metric_columns"], d["reasons"])


MONEY_COLUMNS = frozenset({"revenue", "revenue_12m", "clv_12m", "value_at_risk", "financial_value"})
INT_COLUMNS = {
    "customer_id",
    "purchase_count",
    "days_since_last_purchase",
    "complaints_30d",
    "financial_band",
    "strategic_band",
    "risk_score",
    "community_90d",
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
    fields = _fields(c)
    for i in range(len(c["customer_id"])):
        retention = {}
        if "since_days" in c:
            retention = {
                "customer_since": _days_to_date(c["since_days"][i]),
                "churned_on": _days_to_date(c["churned_days"][i]),
            }
        objs.append(
            CustomerMetrics(
                customer_id=c["customer_id"][i],
                computed_for=ctx.run_date,
                first_purchase_at=_days_to_datetime(c["first_days"][i]),
                last_purchase_at=_days_to_datetime(c["last_days"][i]),
                purchase_count=c["purchase_count"][i],
                revenue=to_money(c["revenue"][i]),
                usual_gap_days=c["usual_gap_days"][i],
                days_since_last_purchase=c["days_since_last_purchase"][i],
                complaints_30d=c["complaints_30d"][i],
                last_manager_contact_at=_days_to_datetime(c["contact_days"][i]),
                p_alive=c["p_alive"][i],
                expected_purchases_30d=c["expected_purchases_30d"][i],
                expected_purchases_90d=c["expected_purchases_90d"][i],
                expected_purchases_365d=c["expected_purchases_365d"][i],
                clv_12m=to_money(c["clv_12m"][i]),
                value_at_risk=to_money(c["value_at_risk"][i]),
                financial_value=to_money(c["financial_value"][i]),
                strategic_value=c["strategic_value"][i],
                financial_band=c["financial_band"][i],
                strategic_band=c["strategic_band"][i],
                risk_score=c["risk_score"][i],
                reasons=reasons[i],
                revenue_12m=to_money(c["revenue_12m"][i]),
                points_unused_since=_days_to_datetime(c["points_days"][i]),
                community_90d=c["community_90d"][i],
                **retention,
            )
        )
        if len(objs) >= BATCH:
            written += _upsert_metrics(objs, fields)
            objs = []
    if objs:
        written += _upsert_metrics(objs, fields)
    return written


def _upsert_metrics(objs: list[CustomerMetrics], fields: list[str]) -> int:
    CustomerMetrics.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["customer"], update_fields=fields
    )
    return len(objs)


def _write_metrics_copy(
    ctx: RunContext, c: dict[str, np.ndarray], reasons: Reasons, *, rows: np.ndarray | None = None
) -> int:
    """PostgreSQL path: every customer's row (a full night) or the ``rows`` given (an
    incremental one), all inside the run's transaction (a failed run rolls it back):

    - ``copy_rows``: numpy lays out every row of a binary COPY at once (fixed width:
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
    (new rows, index rebuilds) waits for ``settle``: retention, computed meanwhile,
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
        sources = copy_rows(
            cursor, "nightly_metrics", c, lambda: reasons.given(picked), money=MONEY_COLUMNS
        )
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
            "customer_since": "DATE '1970-01-01' + NULLIF(s.since_days, 'NaN')::integer",
            "churned_on": "DATE '1970-01-01' + NULLIF(s.churned_days, 'NaN')::integer",
        }
        for k in ("purchase_count", "complaints_30d", "community_90d"):
            select[k] = f"s.{k}::integer"
        for k in ("financial_band", "strategic_band", "risk_score"):
            select[k] = f"s.{k}::smallint"
        exprs = {f: select.get(f, f"s.{f}") for f in _fields(c)}
    update = (
        f"UPDATE {qn(table)} AS m SET {', '.join(f'{f} = {e}' for f, e in exprs.items())} "  # noqa: S608
        f"FROM {sources} WHERE m.customer_id = s.customer_id::bigint"
    )

    def finish(written: int) -> int:
        with connection.cursor() as cursor:
            if (
                written < n
            ):  # customers with no row yet (an anti-join of the whole book: skipped when none)
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
        # this process computes retention on the other core; settle waits for it.
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


def settle(ctx: RunContext, *, finish: bool = True) -> None:
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


def _days_to_date(days: float | None) -> dt.date | None:
    if days is None or not np.isfinite(days):
        return None
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(days))


def _days_to_datetime(days: float | None) -> dt.datetime | None:
    if days is None or not np.isfinite(days):
        return None
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=float(days))
