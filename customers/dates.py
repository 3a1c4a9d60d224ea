"""Calendar arithmetic every app needs: whole months, and where a local day starts.

Here, in the lowest app, so that loyalty and relationships share one version of each.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.utils import timezone


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later (earlier when negative), or the last day of
    that month when it is shorter: 31 January plus one month is 28 or 29 February."""
    index = month_index(day) + months
    year, month = index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_index(day: dt.date) -> int:
    """Months since the start of year 0, so that consecutive months differ by one across
    years (December 2025 and January 2026 too)."""
    return day.year * 12 + day.month - 1


def local_midnight(day: dt.date) -> dt.datetime:
    """The aware moment `day` starts in the current time zone (TIME_ZONE unless a request
    activated another): where a query on a DateTimeField has to cut for that day."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


# PostgreSQL keeps UTC offsets up to ±15:59 (real zones span -12:00 to +14:00).
MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59)


def storable_moment(moment: dt.datetime) -> dt.datetime:
    """An aware moment as UTC, ready for any query or row; a ValueError whose message is
    for the person when the offset is beyond ±15:59 or the moment is outside years
    1-9999 once in UTC (the database would refuse it with an error, not an answer)."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    offset = moment.utcoffset() or dt.timedelta(0)
    if abs(offset) > MAX_UTC_OFFSET:
        raise ValueError("The UTC offset must be between -15:59 and +15:59.")
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValueError("The date must be between the years 1 and 9999.") from exc
