"""The file as a whole: its columns, its text and its rows, before any row is judged."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings

from ..errors import ValidationFailed
from ..models import Customer, ImportKind

# A defected customer's row says why they left: these columns are for such rows only.
DEFECTION_COLUMNS = ("defection_reason", "defected_on", "exit_interview_notes")
# The customer's own fields, then the two an import sets apart from them, then the
# defection's.
CUSTOMER_COLUMNS = (*Customer.EDITABLE_FIELDS, "account_manager", "tags", *DEFECTION_COLUMNS)
CUSTOMER_REQUIRED = ("name",)
PURCHASE_COLUMNS = (
    "customer_id",
    "customer_email",
    "reference",
    "amount",
    "currency",
    "occurred_at",
    "product",
    "category",
)
PURCHASE_REQUIRED = ("reference", "amount", "occurred_at")

# Keyed by ImportKind; looked up with the job's kind, a plain str equal to the member.
COLUMNS: dict[str, tuple[str, ...]] = {
    ImportKind.CUSTOMERS: CUSTOMER_COLUMNS,
    ImportKind.PURCHASES: PURCHASE_COLUMNS,
}

TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ImportKind.CUSTOMERS: (
        CUSTOMER_COLUMNS,
        (
            "Nordwind GmbH",
            "organisation",
            "info@nordwind.example",
            "+49 30 1234567",
            "Nordwind GmbH",
            "Hafenstraße 1, Hamburg",
            "",
            "prospect",
            "active",
            "2026-01-15",
            "ERP-10042",
            "",
            "wholesale;north",
            "",
            "",
            "",
        ),
    ),
    ImportKind.PURCHASES: (
        PURCHASE_COLUMNS,
        (
            "",
            "info@nordwind.example",
            "INV-2026-0001",
            "1250.00",
            "EUR",
            "2026-02-01T10:30:00+01:00",
            "Annual licence",
            "software",
        ),
    ),
}


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be imported (encoding, header, size, emptiness)."""


@dataclass
class RowError:
    line: int
    message: str
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


def read_upload(fileobj: BinaryIO) -> bytes:
    """Read at most one byte more than the limit, so a huge upload is refused without
    being read in full."""
    return fileobj.read(settings.CRM_IMPORT_MAX_BYTES + 1)


def decode_upload(data: bytes) -> str:
    limit = settings.CRM_IMPORT_MAX_BYTES
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise ImportFileError(f"The file is larger than {size}; split it into smaller files.")
    try:
        # utf-8-sig: spreadsheet programs often start the file with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (bad byte at position {exc.start}); "
            "save it as 'CSV UTF-8' and upload it again."
        ) from exc
    if "\x00" in text:
        raise ImportFileError("The file contains NUL bytes: it is not a CSV text file.")
    if not text.strip():
        raise ImportFileError("The file is empty.")
    return text


def _check_header(kind: str, header: list[str]) -> None:
    expected = COLUMNS[kind]
    if not any(header):
        raise ImportFileError("The first line must be the header with the column names.")
    counts = Counter(header)
    doubled = sorted(c for c, n in counts.items() if n > 1)
    if doubled:
        raise ImportFileError(f"Columns appear twice in the header: {', '.join(doubled)}.")
    unknown = [c for c in header if c not in expected]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. Allowed columns: {', '.join(expected)}."
        )
    required = CUSTOMER_REQUIRED if kind == ImportKind.CUSTOMERS else PURCHASE_REQUIRED
    missing = [c for c in required if c not in header]
    if kind == ImportKind.PURCHASES and not {"customer_id", "customer_email"} & set(header):
        missing.insert(0, "customer_id or customer_email")
    if missing:
        raise ImportFileError(f"Missing columns in the header: {', '.join(missing)}.")


Record = tuple[int, dict[str, str] | None, RowError | None]


def records(kind: str, text: str) -> Iterator[Record]:
    """Yield each row as (line it starts on, values by column, None), or a row with the
    wrong number of fields as (line, None, its error). The header is checked first."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise ImportFileError("The file is empty.")
        header = [h.strip().lower() for h in header_row]
        _check_header(kind, header)
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue  # blank lines are not rows
            if len(values) != len(header):
                message = f"The row has {len(values)} fields but the header has {len(header)}."
                yield start, None, RowError(start, message)
            else:
                yield start, dict(zip(header, (v.strip() for v in values), strict=True)), None
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num}: the CSV is malformed ({exc}).") from exc


def header_of(text: str) -> list[str]:
    """The column names of a file whose header records() has accepted."""
    first = next(csv.reader(io.StringIO(text, newline="")), [])
    return [h.strip().lower() for h in first]


def count_rows(kind: str, text: str) -> int:
    count = sum(1 for _ in records(kind, text))
    if not count:
        raise ImportFileError("The file has a header but no rows.")
    return count


def template_csv(kind: str) -> str:
    """A header plus one example row, for the download link on the upload page."""
    columns, example = TEMPLATES[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow(example)
    return out.getvalue()
