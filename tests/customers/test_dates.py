import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from customers.dates import add_months, local_midnight, month_index

D = dt.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 15), 1, D(2026, 2, 15)),
        (D(2026, 1, 15), 0, D(2026, 1, 15)),
        (D(2026, 11, 30), 2, D(2027, 1, 30)),  # across the year
        (D(2026, 1, 15), -1, D(2025, 12, 15)),  # back across the year
        (D(2026, 5, 31), -25, D(2024, 4, 30)),
        # A longer month's last days land on a shorter month's last day.
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 8, 31), 1, D(2026, 9, 30)),
        # Leap years: 29 February exists in 2024 and 2028, not in 2025 or 2100.
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2099, 12, 31), 2, D(2100, 2, 28)),
        (D(2000, 1, 30), 1, D(2000, 2, 29)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


def test_add_months_from_the_first_gives_the_first_of_each_month():
    firsts = [add_months(D(2025, 11, 1), n) for n in range(-2, 4)]

    assert firsts == [
        D(2025, 9, 1),
        D(2025, 10, 1),
        D(2025, 11, 1),
        D(2025, 12, 1),
        D(2026, 1, 1),
        D(2026, 2, 1),
    ]


def test_month_index_counts_consecutive_months_across_years():
    assert month_index(D(2026, 1, 1)) - month_index(D(2025, 12, 31)) == 1
    assert month_index(D(2026, 1, 1)) == month_index(D(2026, 1, 31))
    assert month_index(D(2027, 3, 5)) - month_index(D(2026, 3, 5)) == 12
    for n in range(-30, 31):
        assert month_index(add_months(D(2024, 2, 29), n)) == month_index(D(2024, 2, 29)) + n


def test_local_midnight_is_the_start_of_the_day_in_the_current_zone():
    start = local_midnight(D(2026, 6, 1))

    assert timezone.is_aware(start)
    assert start == dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # the test settings run in UTC


BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("day", "offset_hours", "day_hours"),
    [
        (D(2026, 3, 28), 1, 24),
        (D(2026, 3, 29), 1, 23),  # clocks go forward at 02:00
        (D(2026, 3, 30), 2, 24),
        (D(2026, 10, 25), 2, 25),  # clocks go back at 03:00
        (D(2026, 10, 26), 1, 24),
    ],
)
def test_local_midnight_on_and_around_daylight_saving_days(day, offset_hours, day_hours):
    with timezone.override(BERLIN):
        start = local_midnight(day)
        end = local_midnight(day + dt.timedelta(days=1))

    assert start.utcoffset() == dt.timedelta(hours=offset_hours)
    assert timezone.localtime(start, BERLIN).date() == day
    assert timezone.localtime(start, BERLIN).time() == dt.time(0, 0)
    # Real time between two midnights, measured in UTC: 23 or 25 hours on the change days.
    hours = (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)) / dt.timedelta(hours=1)
    assert hours == day_hours
