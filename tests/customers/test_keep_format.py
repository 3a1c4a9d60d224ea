"""How numbers and durations read on the pages: thousands separators, singular and
plural, days in words."""

import pytest

from customers.templatetags.keep_format import counted, days_in_words, percent


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
