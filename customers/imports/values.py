"""A row's text made into values (choices, lengths, dates, moments), and the batching both
importers use to keep statements small."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import Choices, Field, Model
from django.utils import timezone

from ..dates import local_midnight, storable_moment
from ..errors import ValidationFailed

BATCH_SIZE = 500
# SQLite refuses statements with more than a few thousand parameters.
IN_CHUNK = 900

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def chunks(values: Iterable[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def parse_choice(value: str, choices: type[Choices], default: str) -> str:
    """Accept a choice by its value or its label, any case; blank means the default."""
    if not value:
        return default
    lowered = value.lower()
    for choice_value, label in choices.choices:
        if lowered in (choice_value, str(label).lower()):
            return choice_value
    return value  # left as given: the service's validation names it as unknown


def check_length(column: str, value: str, max_length: int) -> None:
    if len(value) > max_length:
        raise ValidationFailed(
            f"{column} is {len(value)} characters long; at most {max_length} fit.", field=column
        )


def field_max_length(model: type[Model], name: str) -> int:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} has no max_length.")
    return field.max_length


def parse_date(value: str, column: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a date, no time
    except ValueError as exc:
        raise ValidationFailed(f"{value!r} is not a date as YYYY-MM-DD.", field=column) from exc


def parse_moment(value: str, column: str) -> dt.datetime:
    """ISO 8601 with a time zone, or a bare date meaning midnight where the company is."""
    if DATE_ONLY.match(value):
        day = parse_date(value, column)
        return local_midnight(day)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(
            f"{value!r} is not a date and time (ISO 8601, e.g. 2026-02-01T10:30:00+01:00).",
            field=column,
        ) from exc
    if timezone.is_naive(moment):
        raise ValidationFailed(
            f"{value!r} has no time zone; add one (e.g. +01:00 or Z) or give a date only.",
            field=column,
        )
    try:
        return storable_moment(moment)
    except ValueError as exc:
        raise ValidationFailed(f"{value!r}: {exc}", field=column) from exc


def collect(errors: list[ValidationFailed], step: Callable[..., Any], *args: Any) -> Any:
    """Run one column's check, step(*args); a failure is kept (and None returned) so the
    row reports every bad field, not only the first."""
    try:
        return step(*args)
    except ValidationFailed as exc:
        errors.append(exc)
        return None


def row_failure(errors: list[ValidationFailed]) -> ValidationFailed:
    """One row's failures as one error naming every bad column."""
    if len(errors) == 1:
        return errors[0]
    columns = [e.field or "row" for e in errors]
    message = " ".join(f"{column}: {e.message}" for column, e in zip(columns, errors, strict=True))
    return ValidationFailed(message, field=", ".join(columns))
