import datetime as dt

from django.utils import timezone

from relationships.selectors import customer_timeline
from tests.factories import InteractionFactory, PurchaseFactory


def test_timeline_pages_through_entries_sharing_one_time(manager_a, customer_a):
    # given twelve interactions and purchases at exactly the same moment, and one older
    when = timezone.now().replace(microsecond=0) - dt.timedelta(days=1)
    for _ in range(6):
        InteractionFactory(customer=customer_a, author=manager_a, occurred_at=when)
        PurchaseFactory(customer=customer_a, occurred_at=when)
    oldest = PurchaseFactory(customer=customer_a, occurred_at=when - dt.timedelta(hours=1))

    # when the timeline is read five entries at a time
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = customer_timeline(customer=customer_a, limit=5, before=cursor)
        seen += [(e.kind, e.obj.pk) for e in page]
        pages += 1
        if cursor is None:
            break

    # then every entry shows exactly once, newest first, interactions before purchases at a tie
    assert pages == 3
    assert len(seen) == len(set(seen)) == 13
    assert seen[-1] == ("purchase", oldest.pk)
    assert [k for k, _ in seen[:6]] == ["interaction"] * 6


def test_timeline_row_shows_what_the_template_filters_showed(manager_a, customer_a, settings):
    """Display values are now worked out in Python; they must read exactly as the `date`,
    `floatformat`, `intcomma` and display filters rendered them in the entry template."""
    from decimal import Decimal

    from django.template import Context, Template

    from relationships.selectors import TimelineEntry, timeline_row

    settings.TIME_ZONE = "Europe/Paris"  # a time zone other than UTC, so conversion shows
    when = dt.datetime(2026, 3, 29, 0, 45, tzinfo=dt.UTC)  # 02:45 in UTC, 01:45 local before DST
    purchase = PurchaseFactory(customer=customer_a, amount=Decimal("1234567.5"), occurred_at=when)
    interaction = InteractionFactory(
        customer=customer_a,
        author=manager_a,
        occurred_at=when,
        kind="training",
        sentiment=-2,
        channel="on_site",
        follow_up_on=dt.date(2026, 4, 2),
    )
    old = Template(
        "{% load humanize keep_format %}{{ o.amount|floatformat:2|intcomma }}|"
        "{{ o.occurred_at|date:'c' }}|{{ o.occurred_at|day }} {{ o.occurred_at|time:'H:i' }}"
    )
    with timezone.override("Europe/Paris"):
        expected = old.render(Context({"o": purchase})).split("|")
        row = timeline_row(TimelineEntry("purchase", purchase.occurred_at, purchase))
        irow = timeline_row(TimelineEntry("interaction", interaction.occurred_at, interaction))
    assert [row["amount"], row["iso"], row["when"]] == expected
    assert row["amount"] == "1,234,567.50"
    # More than six months before today (December 2026 on): the year shows.
    assert row["when"] == "Sun 29 Mar 2026 01:45"
    assert irow["when"] == "Sun 29 Mar 2026 01:45"
    assert (irow["icon"], irow["kind_label"], irow["sentiment"], irow["sentiment_label"]) == (
        "✎",
        "Training",
        0,
        "Very negative",
    )
    assert (irow["channel_label"], irow["author"], irow["follow_up_on"]) == (
        "On site",
        "Alice Anders",
        dt.date(2026, 4, 2),
    )
