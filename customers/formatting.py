"""How numbers read on every page, chart and message: the one place for the conventions.

- Counts, points and money carry thousands separators ("1,234"); negative numbers keep
  their sign ("-1,234"); nothing known reads "—".
- Money has two decimals and its currency after it ("1,234.50 EUR").
- Percentages come from fractions (0.823 -> "82%").
- A number with a unit takes the singular for exactly 1 ("1 star", "2 stars",
  "1.5 stars"); durations read in words ("1 day", "24 months").
- A loyalty program stores its points name in the plural ("stars", "points", "miles");
  the singular follows a rule (``singular``) rather than a second field, so nothing
  stored changes: "ies" -> "y", "(s|x|z|ch|sh)es" -> drop "es", a final single "s" is
  dropped, any other word is used as it is.

Django's humanize ``intcomma`` does the grouping elsewhere; these functions exist because
it has no notion of None, a unit, a currency or a singular, and Python code (messages,
chart labels, risk reasons) needs the same strings without a template.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

NOTHING = "—"

Number = int | float | Decimal


def _as_decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def number(value: object, decimals: int | None = None) -> str:
    """1234567 -> '1,234,567'; Decimal('1234.5') -> '1,234.5'; decimals=2 -> '1,234.50'.

    Without ``decimals`` a whole number shows none and a fraction at most two, trailing
    zeros dropped. Text that is not a number is returned as it is."""
    amount = _as_decimal(value)
    if amount is None:
        return NOTHING if value is None or value == "" else str(value)
    if decimals is not None:
        # half up, as people round money (format() alone rounds half to even)
        return f"{amount.quantize(Decimal(1).scaleb(-int(decimals)), ROUND_HALF_UP):,}"
    if amount == amount.to_integral_value():
        return f"{amount.quantize(Decimal(1), ROUND_HALF_UP):,}"
    return f"{amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,}".rstrip("0").rstrip(".")


def money(value: object, currency: str = "") -> str:
    """Decimal('1234.5'), 'EUR' -> '1,234.50 EUR'."""
    text = number(value, 2)
    if text == NOTHING or not currency:
        return text
    return f"{text} {currency}"


def percent(value: object, digits: int = 0) -> str:
    """A fraction as a percentage: 0.823 -> '82%', 0.8234 (1 digit) -> '82.3%'."""
    amount = _as_decimal(value)
    if amount is None:
        return NOTHING
    return f"{float(amount) * 100:,.{int(digits)}f}%"


def singular(words: str) -> str:
    """The singular of a unit stored in the plural: 'stars' -> 'star', 'miles' -> 'mile',
    'berries' -> 'berry', 'boxes' -> 'box'. Only the last word changes
    ('reward points' -> 'reward point')."""
    head, _, word = words.rpartition(" ")
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 3:
        word = word[:-3] + ("Y" if word[-3:].isupper() else "y")
    elif lower.endswith(("ses", "xes", "zes", "ches", "shes")) and not lower.endswith(
        ("ises", "uses")
    ):
        word = word[:-2]
    elif lower.endswith("s") and not lower.endswith("ss") and len(word) > 1:
        word = word[:-1]
    return f"{head} {word}" if head else word


def plural(words: str) -> str:
    """The plural of a unit given in the singular: 'day' -> 'days', 'reply' -> 'replies'."""
    lower = words.lower()
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return words[:-1] + "ies"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return words + "es"
    return words + "s"


def counted(value: object, one: str, many: str | None = None) -> str:
    """The number with its unit in the singular or plural: (1, 'day') -> '1 day',
    (1234, 'day') -> '1,234 days', (1.5, 'star', 'stars') -> '1.5 stars'."""
    amount = _as_decimal(value)
    if amount is None:
        amount = Decimal(0)
    word = one if abs(amount) == 1 else (many or plural(one))
    return f"{number(amount)} {word}"


def points(value: object, points_name: str) -> str:
    """A quantity of a program's points, whose name is stored in the plural:
    (1, 'stars') -> '1 star', (1234, 'stars') -> '1,234 stars'."""
    return counted(value, singular(points_name), points_name)


def months(value: object) -> str:
    """12 -> '12 months', 1 -> '1 month'; None -> '—'."""
    if _as_decimal(value) is None:
        return NOTHING
    return counted(value, "month")


def days(value: object) -> str:
    """90 -> '90 days', 1 -> '1 day'; None -> '—'."""
    if _as_decimal(value) is None:
        return NOTHING
    return counted(value, "day")


def unit_for(words: str, value: object) -> str:
    """A unit stored in the plural, matched to a number shown apart from it:
    ('stars', 1) -> 'star', ('stars', 1234) -> 'stars'."""
    amount = _as_decimal(value)
    return singular(words) if amount is not None and abs(amount) == 1 else words
