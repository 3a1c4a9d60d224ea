"""Writing generated columns: COPY on PostgreSQL, bulk_create on SQLite, and dropping then
rebuilding a table's secondary indexes and foreign keys around a large COPY."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

import numpy as np
from django.db import connection, models

EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _to_db_lists(columns: dict[str, np.ndarray | Iterable[Any]], postgres: bool) -> dict[str, list]:
    """numpy columns -> plain lists the backend accepts (strings for COPY, objects for ORM)."""
    out = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray):
            kind = values.dtype.kind
            if kind == "M":  # datetime64: [s] for timestamps, [D] for dates, NaT for NULL
                nat = np.isnat(values).tolist()
                is_date = np.datetime_data(values.dtype)[0] == "D"
                if postgres:
                    unit: Literal["D", "s"] = "D" if is_date else "s"
                    tz: Literal["naive", "UTC"] = "naive" if is_date else "UTC"
                    converted = np.datetime_as_string(values, unit=unit, timezone=tz).tolist()
                else:
                    ints = values.astype("int64").tolist()
                    converted = [
                        None
                        if missing
                        else dt.date.fromordinal(v + EPOCH_ORDINAL)
                        if is_date
                        else dt.datetime.fromtimestamp(v, tz=dt.UTC)
                        for v, missing in zip(ints, nat, strict=True)
                    ]
                out[name] = [
                    None if missing else v for v, missing in zip(converted, nat, strict=True)
                ]
            elif kind == "f":
                out[name] = (
                    values.tolist() if postgres else [Decimal(f"{v:.2f}") for v in values.tolist()]
                )
            else:
                out[name] = values.tolist()
        else:
            out[name] = list(values)
    return out


def _default_for(f: models.Field, now: dt.datetime):
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return now
    return f.get_default()


class Writer:
    """Writes generated columns into a model's table, filling the other columns with their
    model defaults (so a field another app adds later does not break the seeder)."""

    def __init__(self, now: dt.datetime):
        self.postgres = connection.vendor == "postgresql"
        self.now = now
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def write(
        self, model: type[models.Model], columns: dict[str, np.ndarray | Iterable[Any]]
    ) -> None:
        started = time.perf_counter()
        lists = _to_db_lists(columns, self.postgres)
        n = len(next(iter(lists.values()))) if lists else 0
        if n:
            if self.postgres:
                self._copy(model, lists, n)
            else:
                self._bulk_create(model, lists, n)
        label = model._meta.db_table
        self.rows[label] = self.rows.get(label, 0) + n
        self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

    def _copy(self, model, lists: dict[str, list], n: int) -> None:
        names = []
        values = []
        for f in model._meta.concrete_fields:
            if f.attname in lists:
                names.append(f.column)
                values.append(lists[f.attname])
            elif not f.primary_key:
                names.append(f.column)
                values.append([_default_for(f, self.now)] * n)
        unknown = set(lists) - {f.attname for f in model._meta.concrete_fields}
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        table = connection.ops.quote_name(model._meta.db_table)
        cols = ", ".join(connection.ops.quote_name(c) for c in names)
        with (
            connection.cursor() as wrapper,
            wrapper.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
        ):
            write_row = copy.write_row
            for row in zip(*values, strict=True):
                write_row(row)

    def _bulk_create(self, model, lists: dict[str, list], n: int) -> None:
        keys = list(lists)
        objs = [
            model(**dict(zip(keys, row, strict=True))) for row in zip(*lists.values(), strict=True)
        ]
        model.objects.bulk_create(objs, batch_size=2000)


class IndexRebuild:
    """Drop a table's secondary indexes, unique constraints and foreign keys for a bulk load
    and put them back afterwards, inside the caller's transaction (PostgreSQL DDL is
    transactional: a failed run restores them with everything else)."""

    def __init__(self, tables: list[str]):
        self.tables = tables
        self.indexes: list[str] = []
        self.constraints: list[tuple[str, str, str]] = []

    def drop(self) -> None:
        with connection.cursor() as c:
            for table in self.tables:
                c.execute(
                    """
                    SELECT k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
                    WHERE k.conrelid = %s::regclass AND k.contype IN ('f', 'u')
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint r
                                      WHERE r.contype = 'f' AND r.conindid = k.conindid
                                        AND k.contype = 'u')
                    ORDER BY k.contype DESC, k.conname
                    """,
                    [table],
                )
                for name, definition in c.fetchall():
                    self.constraints.append((table, name, definition))
                    c.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                c.execute(
                    """
                    SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                    JOIN pg_class ic ON ic.oid = i.indexrelid
                    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                      WHERE k.conindid = i.indexrelid
                                        AND k.conrelid = i.indrelid)
                    ORDER BY ic.relname
                    """,
                    [table],
                )
                for name, definition in c.fetchall():
                    self.indexes.append(definition)
                    c.execute(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        with connection.cursor() as c:
            c.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for definition in self.indexes:
                c.execute(definition)
            # Unique constraints first: a foreign key may need the index they build.
            for table, name, definition in sorted(
                self.constraints, key=lambda t: not t[2].startswith("UNIQUE")
            ):
                c.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
