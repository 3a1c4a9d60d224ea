"""Numbers and durations as people read them, on every page and chart:
`{% load keep_format %}` then

- ``{{ n|num }}``: "1,234,567" (None -> "—"); ``{{ x|num:2 }}``: "1,234.50";
- ``{{ amount|money:currency }}``: "1,234.50 EUR";
- ``{{ rate|percent }}``: 0.823 -> "82%"; ``{{ rate|percent:1 }}``: "82.3%";
- ``{{ n|counted:"customer" }}`` / ``{{ n|counted:"person,people" }}``: "1 customer";
- ``{{ n|points:program.points_name }}``: "1 star", "1,234 stars";
- ``{{ program.points_name|singular }}``: "star";
- ``{{ program.points_name|unit_for:n }}``: "star" when n is 1, else "stars";
- ``{{ n|days }}``: "1 day", "90 days"; ``{{ n|months }}``: "24 months";
- ``{{ n|days_in_words }}``: "365 days (about a year)".

The rules themselves live in ``customers.formatting`` so Python code builds the same
strings for messages, chart labels and reasons."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import dateformat, timezone

from customers import formatting
from customers.dates import add_months

register = template.Library()

DAYS_PER_MONTH = 30.4375

register.filter("money", formatting.money)
register.filter("points", formatting.points)
register.filter("singular", formatting.singular)
register.filter("unit_for", formatting.unit_for)
register.filter("days", formatting.days)
register.filter("months", formatting.months)


@register.filter
def num(value: object, decimals: int | str | None = None) -> str:
    """1234567 -> '1,234,567'; with an argument, that many decimals."""
    return formatting.number(value, None if decimals is None or decimals == "" else int(decimals))


@register.filter
def percent(value: object, digits: int = 0) -> str:
    """0.823 -> '82%'; None -> '—'."""
    return formatting.percent(value, int(digits))


@register.filter
def counted(value: object, words: str) -> str:
    """{{ n|counted:"customer" }} or {{ n|counted:"person,people" }}: the number with
    thousands separators and the word in the singular or plural."""
    word, _, many = words.partition(",")
    return formatting.counted(value, word, many or None)


@register.filter
def days_in_words(value: int | str | None) -> str:
    """30 -> '30 days (about a month)', 365 -> '365 days (about a year)', 3 -> '3 days'."""
    if value is None or value == "":
        return formatting.NOTHING
    days = int(value)
    text = formatting.days(days)
    if days < 14:
        return text
    months = days / DAYS_PER_MONTH
    whole = round(months)
    if days < 90 and abs(months - whole) > 0.15:
        # 45 days is "about 6 weeks", not "about a month"
        return f"{text} (about {round(days / 7)} weeks)"
    if whole % 12 == 0:
        years = whole // 12
        about = "a year" if years == 1 else f"{years} years"
    else:
        about = "a month" if whole == 1 else f"{whole} months"
    return f"{text} (about {about})"


@register.filter
def day(value: dt.date | dt.datetime | None, today: dt.date | None = None) -> str:
    """A day as people read it on a list: 'Tue 12 Nov', with the year when it is in
    another year or more than six months from today ('Tue 12 Nov 2024'). A datetime is
    read in the current time zone. `today` is for tests."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    today = today or timezone.localdate()
    far = value < add_months(today, -6) or value > add_months(today, 6)
    return dateformat.format(value, "D j M Y" if far or value.year != today.year else "D j M")
