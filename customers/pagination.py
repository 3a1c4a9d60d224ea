"""Keyset ("cursor") pagination of the staff customer list, and its capped count.

The page after (sort value, id) is an indexed range scan, so the thousandth page costs
what the first does (OFFSET would read every row before it). The cursor is the sort's
name, the last row's sort value and its id, as URL-safe base64 JSON.
"""

import base64
import binascii
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import F, Field, Q, QuerySet

from .filters import SORTS
from .models import Customer


class BadCursor(ValueError):
    pass


def _field(name: str) -> Field:
    field = Customer._meta.get_field(name)
    if not isinstance(field, Field):  # SORTS names concrete columns only
        raise TypeError(f"Customer.{name} is not a column.")
    return field


def _sort_fields(sort: str) -> tuple[str, bool, bool]:
    """(field name, descending, nullable) of the sort's leading field; `id` breaks ties."""
    first = SORTS[sort][0]
    name = first.lstrip("-")
    return name, first.startswith("-"), _field(name).null


def sorted_customers(qs: QuerySet[Customer], sort: str) -> QuerySet[Customer]:
    name, desc, nullable = _sort_fields(sort)
    if nullable:
        # The same place for empty values on SQLite and PostgreSQL, and in the cursor.
        lead = F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True)
    else:
        lead = F(name).desc() if desc else F(name).asc()
    return qs.order_by(lead, "-id" if desc else "id")


def encode_cursor(sort: str, customer: Customer) -> str:
    name, _, _ = _sort_fields(sort)
    value = getattr(customer, name)
    if value is not None and not isinstance(value, str):
        value = value.isoformat()
    raw = json.dumps([sort, value, customer.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    """(sort value, id) of a cursor made by encode_cursor for the same sort, or BadCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, last_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(last_id, int):
            raise BadCursor
        name, _, _ = _sort_fields(sort)
        if value is not None:
            value = _field(name).to_python(value)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, ValidationError) as exc:
        raise BadCursor from exc
    return value, last_id


def customer_page(
    qs: QuerySet[Customer],
    sort: str,
    cursor: tuple[Any, int] | None,
    limit: int,
    *,
    ids_first: bool = False,
) -> list[Customer]:
    """Up to `limit` customers after the cursor (sort value, id) in the order of `sort`.
    Each query is a plain range scan on (field, id); empty values of a nullable field come
    last in both directions and are read as their own run, ordered by id.

    ``ids_first``: for a filter on another table that few customers pass (the customers
    lost in a month): the walk reads only the sort index (sort value and id, no row) while
    it tests thousands of customers, then the page's rows are read by id."""
    if ids_first:
        name = _sort_fields(sort)[0]
        with transaction.atomic(using=qs.db):
            connection = connections[qs.db]
            if connection.vendor == "postgresql":
                # The walk stops after a few thousand index probes (tens of ms); starting
                # parallel workers for it cost as much again, more on a busy server.
                with connection.cursor() as cursor_:
                    cursor_.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            keys = customer_page(qs.select_related(None).only("id", name), sort, cursor, limit)
        found = qs.in_bulk([c.pk for c in keys])
        return [found[c.pk] for c in keys if c.pk in found]
    name, desc, nullable = _sort_fields(sort)
    op = "lt" if desc else "gt"
    by_id = "-id" if desc else "id"
    empties = qs.filter(**{f"{name}__isnull": True}).order_by(by_id)
    if cursor is not None and cursor[0] is None:  # already in the run of empty values
        return list(empties.filter(**{f"id__{op}": cursor[1]})[:limit])
    ranged = qs.order_by(f"-{name}" if desc else name, by_id)
    if cursor is not None:
        value, last_id = cursor
        # The redundant bound lets the database start the index scan at the cursor.
        ranged = ranged.filter(
            Q(**{f"{name}__{op}e": value})
            & (Q(**{f"{name}__{op}": value}) | Q(**{name: value, f"id__{op}": last_id}))
        )
    if not nullable:
        return list(ranged[:limit])
    rows = list(ranged.filter(**{f"{name}__isnull": False})[:limit])
    if len(rows) < limit:
        rows += list(empties[: limit - len(rows)])
    return rows


def capped_count(qs: QuerySet, cap: int) -> int:
    """COUNT over a LIMITed subquery: cheap on a million rows, exact up to the cap."""
    return qs.order_by().values("pk")[: cap + 1].count()


# --- The same keyset walk for other lists (follow-ups, ladder suggestions) ----------------
# Ordered by one non-null column and the id; the cursor is (list name, value, id).


def keyset_token(name: str, value: Any, pk: int) -> str:
    if value is not None and not isinstance(value, str | int):
        value = value.isoformat()
    raw = json.dumps([name, value, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def keyset_position(name: str, token: str, field: Field) -> tuple[Any, int]:
    """(value, id) of a `keyset_token` for the list `name`, or BadCursor."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        token_name, value, last_id = json.loads(raw)
        if token_name != name or not isinstance(last_id, int) or value is None:
            raise BadCursor
        value = field.to_python(value)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, ValidationError) as exc:
        raise BadCursor from exc
    return value, last_id


def keyset_page(
    qs: QuerySet, field: str, *, descending: bool, position: tuple[Any, int] | None, limit: int
) -> list:
    """Up to `limit` rows after `position` in the order (field, id), both ascending or both
    descending: an index range scan however deep the page."""
    op = "lt" if descending else "gt"
    qs = qs.order_by(f"-{field}", "-id") if descending else qs.order_by(field, "id")
    if position is not None:
        value, last_id = position
        qs = qs.filter(
            Q(**{f"{field}__{op}e": value})
            & (Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": last_id}))
        )
    return list(qs[:limit])
