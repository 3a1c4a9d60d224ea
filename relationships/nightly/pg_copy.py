"""PostgreSQL binary COPY of numpy columns into temporary tables: numbers as float8,
money as exact binary numerics, laid out by numpy with no Python object per row; and the
rows' reasons from one jsonb array. Knows nothing of the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# PostgreSQL's binary numeric: digit count, weight, sign, display scale, then base-10000
# digits. Money goes over as exact cents in five digits (four whole, one for the cents:
# up to 10^16, beyond numeric(16, 2)); the server strips the leading zeros. Converting a
# float8 to numeric on the server prints and parses it, about 0.7 s per million values.
NUMERIC_DIGITS = 5
NUMERIC_NAN = 0xC000


def _money_fields(k: str) -> list[tuple]:
    return [
        (f"l_{k}", ">i4"),
        (f"{k}_ndigits", ">i2"),
        (f"{k}_weight", ">i2"),
        (f"{k}_sign", ">u2"),
        (f"{k}_dscale", ">i2"),
        (f"{k}_digits", ">i2", (NUMERIC_DIGITS,)),
    ]


def _put_money(rows: np.ndarray, k: str, values: np.ndarray) -> None:
    """Fill column ``k`` of the COPY rows with ``values`` (amounts, rounded to the cent
    like round(x, 2) on the server; NaN stays NaN) as binary numerics."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    amounts = np.abs(np.where(finite, values, 0.0))
    if amounts.size and amounts.max() >= 1e14:
        raise ValueError(f"{k}: an amount of {amounts.max():.2f} does not fit numeric(16, 2)")
    cents = np.rint(amounts * 100).astype(np.int64)
    rows[f"{k}_sign"] = np.where(
        finite, np.where((values < 0) & (cents > 0), 0x4000, 0), NUMERIC_NAN
    )
    digits = np.empty((values.size, NUMERIC_DIGITS), dtype=np.int64)
    digits[:, -1] = cents % 100 * 100  # the cents, as the first fractional base-10000 digit
    whole = cents // 100
    for i in range(NUMERIC_DIGITS - 2, -1, -1):
        digits[:, i] = whole % 10000
        whole //= 10000
    rows[f"{k}_digits"] = digits


def copy_numbers(
    cursor, name: str, columns: dict[str, np.ndarray], money: frozenset[str] = frozenset()
) -> None:
    """Create temporary table ``name`` (pos bigint: 1..n, then one float8 per column, NaN
    for NULL, or numeric for the ``money`` ones) and fill it with ONE binary COPY whose
    rows numpy lays out at once (fixed width), so no Python object is made per row: a
    template row with every length and constant is repeated, then each column is written
    in."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    fields: list[tuple] = [("n", ">i2"), ("lpos", ">i4"), ("pos", ">i8")]
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


def copy_rows(
    cursor,
    name: str,
    columns: dict[str, np.ndarray],
    reasons: Callable[[], tuple[np.ndarray, list[list[str]]]],
    money: frozenset[str] = frozenset(),
) -> str:
    """Stage rows for one set-based write: the numbers in temporary table ``name``
    (``copy_numbers``) and the reasons of the rows that have any in ``{name}_reasons``
    (pos, value), from ONE jsonb array. ``reasons`` gives them (``Reasons.given``:
    positions from 0, and their lists); it writes half a million texts on a full night,
    in a thread while the numbers are copied (the copy mostly waits on the server).
    Returns the FROM clause joining the two as ``s`` and ``r`` (``REASONS`` is the value,
    [] for a row with none); the caller drops them (or the commit does)."""

    def as_params() -> list[str]:
        where, texts = reasons()
        return [
            "{" + ",".join(map(str, (where + 1).tolist())) + "}",
            json.dumps(texts, ensure_ascii=False),
        ]

    with ThreadPoolExecutor(max_workers=1) as pool:
        params = pool.submit(as_params)
        copy_numbers(cursor, name, columns, money)
        cursor.execute(
            f"CREATE TEMP TABLE {name}_reasons ON COMMIT DROP AS "  # noqa: S608 (our own table names)
            "SELECT pos, value FROM ROWS FROM (unnest(%s::bigint[]), jsonb_array_elements(%s::jsonb)) AS r(pos, value)",
            params.result(),
        )
    return f"{name} s LEFT JOIN {name}_reasons r ON r.pos = s.pos"


REASONS = "COALESCE(r.value, '[]'::jsonb)"
