"""Numbers and durations as people read them: "365 days (about a year)", "82%",
"1 customer" / "2 customers". `{% load keep_format %}`; thousands separators come from
humanize's intcomma or floatformat's "g" suffix."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import dateformat, timezone

from customers.dates import add_months

register = template.Library()

DAYS_PER_MONTH = 30.4375


def plural(n: int | float, word: str, words: str | None = None) -> str:
    """'1 star', '2 stars', '1,200 stars'."""
    count = f"{n:,}" if isinstance(n, int) else f"{n:,.2f}".rstrip("0").rstrip(".")
    return f"{count} {word if n == 1 else (words or word + 's')}"


@register.filter
def days_in_words(value: int | str | None) -> str:
    """30 -> '30 days (about a month)', 365 -> '365 days (about a year)', 3 -> '3 days'."""
    if value is None or value == "":
        return "—"
    days = int(value)
    text = plural(days, "day")
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
def percent(value: float | str | None, digits: int = 0) -> str:
    """0.823 -> '82%'; None -> '—'."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:,.{int(digits)}f}%"


@register.filter
def counted(value: int | None, words: str) -> str:
    """{{ n|counted:"customer" }} or {{ n|counted:"person,people" }}: the number with
    thousands separators and the word in the singular or plural."""
    n = int(value or 0)
    word, _, many = words.partition(",")
    return plural(n, word, many or None)


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
