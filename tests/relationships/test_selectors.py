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
