"""How numbers and durations read on the pages: thousands separators, singular and
plural, days in words, days on lists."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone

from customers.templatetags.keep_format import counted, day, days_in_words, percent


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (1, "1 day"),
        (3, "3 days"),
        (30, "30 days (about a month)"),
        (45, "45 days (about 6 weeks)"),
        (60, "60 days (about 2 months)"),
        (365, "365 days (about a year)"),
        (730, "730 days (about 2 years)"),
        (1000, "1,000 days (about 33 months)"),
        (None, "—"),
    ],
)
def test_days_read_in_words(days, words):
    assert days_in_words(days) == words


def test_counts_take_the_singular_and_the_plural_with_separators():
    assert counted(1, "customer") == "1 customer"
    assert counted(2, "customer") == "2 customers"
    assert counted(1200, "person,people") == "1,200 people"
    assert counted(None, "star") == "0 stars"


def test_rates_read_as_percentages():
    assert percent(0.823) == "82%"
    assert percent(0.8234, 1) == "82.3%"
    assert percent(None) == "—"


# --- day: "Tue 12 Nov", with the year when it is far or in another year ------------------


@pytest.mark.parametrize(
    ("value", "today", "expected"),
    [
        (dt.date(2026, 11, 12), dt.date(2026, 11, 12), "Thu 12 Nov"),
        (dt.date(2026, 5, 12), dt.date(2026, 11, 12), "Tue 12 May"),  # exactly six months back
        (dt.date(2026, 5, 11), dt.date(2026, 11, 12), "Mon 11 May 2026"),  # a day more
        (dt.date(2026, 6, 30), dt.date(2026, 1, 1), "Tue 30 Jun"),
        (dt.date(2026, 7, 1), dt.date(2026, 1, 1), "Wed 1 Jul"),  # six months ahead
        (dt.date(2026, 7, 2), dt.date(2026, 1, 1), "Thu 2 Jul 2026"),  # a day more
        (dt.date(2025, 12, 31), dt.date(2026, 1, 1), "Wed 31 Dec 2025"),  # yesterday, last year
        (dt.date(2027, 1, 1), dt.date(2026, 12, 31), "Fri 1 Jan 2027"),  # tomorrow, next year
        (dt.date(2024, 11, 12), dt.date(2026, 11, 12), "Tue 12 Nov 2024"),
        (dt.date(2026, 2, 28), dt.date(2026, 8, 31), "Sat 28 Feb"),  # 31 Aug - 6 months = 28 Feb
        (dt.date(2026, 2, 27), dt.date(2026, 8, 31), "Fri 27 Feb 2026"),
    ],
)
def test_day_shows_the_year_only_when_needed(value, today, expected):
    assert day(value, today) == expected


def test_day_reads_a_datetime_in_the_current_time_zone_and_empty_as_a_dash():
    late = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    with timezone.override("Europe/Paris"):  # already 1 January 2027 there
        assert day(late, dt.date(2027, 1, 1)) == "Fri 1 Jan"
    assert day(None) == "—"
    assert day("") == "—"


def test_day_in_a_template_uses_today():
    today = timezone.localdate()
    rendered = Template("{% load keep_format %}{{ d|day }}").render(Context({"d": today}))
    assert rendered == today.strftime("%a %-d %b")
