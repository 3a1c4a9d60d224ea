"""How the nightly run stages a million rows on PostgreSQL: binary COPY of numbers, money
as exact numerics, reasons only for the rows that have any."""

import json
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from relationships.models import CustomerMetrics
from relationships.nightly.pg_copy import REASONS, copy_rows

pytestmark = pytest.mark.postgres(reason="the COPY staging is PostgreSQL's")


NO_REASONS = (np.array([], dtype=np.int64), [])


def staged(columns, money, reasons=NO_REASONS):
    with connection.cursor() as cursor:
        sources = copy_rows(cursor, "t_staged", columns, lambda: reasons, money=frozenset(money))
        names = ", ".join(f"s.{k}" for k in columns)
        cursor.execute(f"SELECT {names}, {REASONS} FROM {sources} ORDER BY s.pos")  # noqa: S608
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE t_staged, t_staged_reasons")
    return rows


@pytest.mark.django_db
def test_money_arrives_to_the_cent_and_numbers_as_they_were():
    amounts = [
        0.0,
        0.01,
        -0.01,
        1234.5,
        -98765.43,
        99_999_999_999_999.98,
        np.nan,
        -0.004,
        0.1 + 0.2,
    ]
    rows = staged(
        {"amount": np.array(amounts), "score": np.array([7.0, np.nan, 1, 2, 3, 4, 5, 6, 0.25])},
        {"amount"},
    )

    assert [r[0] for r in rows[:6]] == [
        Decimal("0.00"),
        Decimal("0.01"),
        Decimal("-0.01"),
        Decimal("1234.50"),
        Decimal("-98765.43"),
        Decimal("99999999999999.98"),
    ]
    assert rows[6][0].is_nan()
    assert rows[7][0] == Decimal("0.00")
    assert not rows[7][0].is_signed()  # no "-0.00"
    assert rows[8][0] == Decimal("0.30")
    assert rows[0][1] == 7.0
    assert rows[8][1] == 0.25
    assert np.isnan(rows[1][1])


@pytest.mark.django_db
def test_an_amount_too_large_for_the_column_is_refused_not_cut():
    with pytest.raises(ValueError, match="does not fit numeric"):
        staged({"amount": np.array([1.0, 1e14])}, {"amount"})


@pytest.mark.django_db
def test_rows_without_reasons_get_an_empty_list():
    reasons = (np.array([1, 3]), [["P(alive) 0.31"], ["2 complaints in 30 days", "P(alive) 0.10"]])
    rows = staged({"x": np.arange(4.0)}, set(), reasons)
    assert [json.loads(r[1]) for r in rows] == [
        [],
        ["P(alive) 0.31"],
        [],
        ["2 complaints in 30 days", "P(alive) 0.10"],
    ]


@pytest.mark.django_db
def test_metrics_pages_leave_room_for_the_nightly_rewrite():
    """Fill factor 45: each night's new row versions fit beside the old ones (HOT updates)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = %s::regclass",
            [CustomerMetrics._meta.db_table],
        )
        assert "fillfactor=45" in cursor.fetchone()[0]
