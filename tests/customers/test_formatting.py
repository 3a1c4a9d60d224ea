"""The number conventions every page, chart and message uses (customers.formatting and
the keep_format filters), at their edges: 0, 1, 2, 1,000, 1,234,567, negative, Decimal,
None."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from customers import formatting


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (1, "1"),
        (2, "2"),
        (1000, "1,000"),
        (1234567, "1,234,567"),
        (-1234, "-1,234"),
        (Decimal("1234.50"), "1,234.5"),
        (Decimal("1234.00"), "1,234"),
        (1234.567, "1,234.57"),
        ("1234", "1,234"),
        (None, "—"),
        ("", "—"),
        ("n/a", "n/a"),
    ],
)
def test_numbers_carry_thousands_separators(value, text):
    assert formatting.number(value) == text


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (0, "EUR", "0.00 EUR"),
        (1, "EUR", "1.00 EUR"),
        (2, "USD", "2.00 USD"),
        (1000, "EUR", "1,000.00 EUR"),
        (1234567, "EUR", "1,234,567.00 EUR"),
        (Decimal("-1234.5"), "EUR", "-1,234.50 EUR"),
        (Decimal("0.005"), "EUR", "0.01 EUR"),
        (Decimal("1234.5"), "", "1,234.50"),
        (None, "EUR", "—"),
    ],
)
def test_money_has_two_decimals_and_its_currency(value, currency, text):
    assert formatting.money(value, currency) == text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0, 0, "0%"),
        (1, 0, "100%"),
        (0.02, 0, "2%"),
        (Decimal("0.8234"), 1, "82.3%"),
        (-0.05, 0, "-5%"),
        (12.345, 0, "1,234%"),
        (None, 0, "—"),
    ],
)
def test_percentages_come_from_fractions(value, digits, text):
    assert formatting.percent(value, digits) == text


@pytest.mark.parametrize(
    ("stored", "one"),
    [
        ("stars", "star"),
        ("points", "point"),
        ("miles", "mile"),
        ("berries", "berry"),
        ("boxes", "box"),
        ("kisses", "kiss"),
        ("reward points", "reward point"),
        ("Stars", "Star"),
        ("kudos", "kudo"),
        ("karma", "karma"),
    ],
)
def test_points_names_stored_plural_have_a_singular_by_rule(stored, one):
    assert formatting.singular(stored) == one


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 stars"),
        (1, "1 star"),
        (2, "2 stars"),
        (1000, "1,000 stars"),
        (1234567, "1,234,567 stars"),
        (-1, "-1 star"),
        (Decimal("1.0000"), "1 star"),
        (Decimal("1.5"), "1.5 stars"),
        (None, "0 stars"),
    ],
)
def test_points_take_the_singular_only_for_one(value, text):
    assert formatting.points(value, "stars") == text


@pytest.mark.parametrize(
    ("value", "days", "months"),
    [
        (0, "0 days", "0 months"),
        (1, "1 day", "1 month"),
        (2, "2 days", "2 months"),
        (1000, "1,000 days", "1,000 months"),
        (1234567, "1,234,567 days", "1,234,567 months"),
        (-3, "-3 days", "-3 months"),
        (Decimal("24"), "24 days", "24 months"),
        (None, "—", "—"),
    ],
)
def test_durations_read_in_words(value, days, months):
    assert formatting.days(value) == days
    assert formatting.months(value) == months


def test_counted_units_pluralise_regular_words():
    assert formatting.counted(2, "reply") == "2 replies"
    assert formatting.counted(2, "day") == "2 days"
    assert formatting.counted(2, "box") == "2 boxes"
    assert formatting.counted(1, "person", "people") == "1 person"
    assert formatting.counted(1234, "person", "people") == "1,234 people"


def test_the_filters_render_in_templates():
    template = Template(
        "{% load keep_format %}{{ n|num }}|{{ n|num:2 }}|{{ m|money:'EUR' }}|"
        "{{ rate|points:'stars' }} per EUR|{{ one|points:'stars' }} per EUR|"
        "{{ 24|months }} after earning|{{ one|days }}|{{ none|num }}|{{ 'stars'|singular }}"
    )
    html = template.render(
        Context({"n": 1234567, "m": Decimal("99.9"), "rate": Decimal("2.0000"), "one": 1})
    )
    assert html == (
        "1,234,567|1,234,567.00|99.90 EUR|2 stars per EUR|1 star per EUR|"
        "24 months after earning|1 day|—|star"
    )


@pytest.mark.parametrize(
    ("value", "word"),
    [(0, "stars"), (1, "star"), (2, "stars"), (1000, "stars"), (-1, "star"), (None, "stars")],
)
def test_a_unit_shown_apart_from_its_number_agrees_with_it(value, word):
    assert formatting.unit_for("stars", value) == word


def test_a_points_name_with_markup_is_escaped_by_the_filters():
    html = Template("{% load keep_format %}{{ n|points:name }}").render(
        Context({"n": 2, "name": "<b>stars</b>"})
    )
    assert "<b>" not in html
    assert "&lt;b&gt;" in html
