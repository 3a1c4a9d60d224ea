"""SQL helpers of the nightly run: the dialect's bits (PostgreSQL or SQLite), reading a
whole book's numbers into numpy as one value on the wire, and money back as Decimal."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import psycopg
from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def epoch_days(expr: str) -> str:
    """SQL turning a timestamp expression into days since 1970-01-01 (float)."""
    if is_postgres():
        return f"(EXTRACT(EPOCH FROM {expr})::float8 / 86400.0)"
    return f"(julianday({expr}) - 2440587.5)"


def epoch_days_of_date(expr: str) -> str:
    if is_postgres():
        return f"({expr} - DATE '1970-01-01')"
    return f"(julianday({expr}) - 2440587.5)"


def dt_param(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def dt_param_date(value: dt.date):
    return connection.ops.adapt_datefield_value(value)


@contextlib.contextmanager
def parallel_scan() -> Iterator[None]:
    """Let PostgreSQL split a sorted per-customer pass across workers (Gather Merge):
    its default costs keep the purchase-day pass, which must keep each customer's rows
    in order, on one core (about 10 s instead of 7.5 s on a million customers)."""
    if not is_postgres():
        yield
        return
    settings = ("parallel_setup_cost", "parallel_tuple_cost")
    with connection.cursor() as cursor:
        for name in settings:
            cursor.execute(f"SET LOCAL {name} = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in settings:
                cursor.execute(f"SET LOCAL {name} TO DEFAULT")


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_floats(
    sql: str, params: list, ncols: int, raw: psycopg.Connection | None = None
) -> np.ndarray:
    """Run a SELECT of ``ncols`` numeric columns and return an (n, ncols) float array,
    NaN for NULL. On PostgreSQL each row is packed server-side as one binary float8 array
    (array_send: a fixed 20-byte header, then a length and a big-endian float8 per value),
    the rows are concatenated into ONE bytea, and numpy reads that buffer: one value on
    the wire, no Python object per row. (A binary COPY arrives as one message per row, and
    iterating 8 million of them in Python took most of a minute; concatenating the values
    with || copied each row's bytes once per column.)"""
    if not is_postgres():
        rows = fetch(sql, params)
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
        row = cursor.fetchone()
    blob = row[0] if row else None
    if not blob:
        return np.zeros((0, ncols))
    fields = [("header", "V20")]
    for i in range(ncols):
        fields += [(f"l{i}", ">i4"), (f"v{i}", ">f8")]
    records = np.frombuffer(blob, dtype=np.dtype(fields))
    return np.column_stack([records[f"v{i}"].astype(float) for i in range(ncols)])


def to_money(value: float) -> Decimal:
    if not np.isfinite(value):
        return Decimal("0.00")
    return Decimal(f"{value:.2f}")


def only_clause(column: str, only: np.ndarray | None) -> tuple[str, list]:
    """``AND column = ANY(ids)`` for an incremental night (PostgreSQL only), else nothing."""
    if only is None:
        return "", []
    return f"AND {column} = ANY(%s)", [only.tolist()]
