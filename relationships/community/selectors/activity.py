"""Community activity per customer, for the CRM side: the account manager's "active in the
community" list, the nightly engagement features and the ladder's co-creation rule.

Set-based: one grouped statement per source, whatever the number of customers. A source
is a row in ``ACTIVITY_SOURCES``; the forums add theirs (posts, accepted answers) by
appending one ``ActivitySource``, and every caller then counts them too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from customers.models import Customer, User
from customers.selectors import customers_visible_to

from ..models import (
    Idea,
    IdeaComment,
    IdeaStatus,
    IdeaVote,
    Post,
    PostStatus,
    Review,
    ReviewStatus,
    Topic,
)

ACTIVITY_DAYS = 90


@dataclass(frozen=True)
class ActivitySource:
    """Rows that count as one customer's community activity: ``rows()`` gives the
    queryset (what counts: hidden or unapproved content does not), ``customer`` the path to
    the customer id, ``when`` the date-time field the window applies to."""

    name: str
    label: str
    rows: Callable[[], QuerySet]
    customer: str = "customer_id"
    when: str = "created_at"


def _accepted_answers() -> QuerySet:
    """Visible customers' posts that a topic took as its answer."""
    accepted = Topic.objects.filter(accepted_post__isnull=False).values("accepted_post")
    return Post.objects.filter(status=PostStatus.VISIBLE, customer__isnull=False, pk__in=accepted)


ACTIVITY_SOURCES: list[ActivitySource] = [
    ActivitySource(
        "posts",
        "Forum posts",
        lambda: Post.objects.filter(status=PostStatus.VISIBLE, customer__isnull=False),
    ),
    ActivitySource("answers", "Accepted answers", _accepted_answers),
    ActivitySource("ideas", "Ideas", lambda: Idea.objects.filter(is_hidden=False)),
    ActivitySource("votes", "Votes", lambda: IdeaVote.objects.all()),
    ActivitySource(
        "comments",
        "Comments",
        lambda: IdeaComment.objects.filter(is_hidden=False, customer__isnull=False),
    ),
    ActivitySource(
        "reviews", "Reviews", lambda: Review.objects.filter(status=ReviewStatus.APPROVED)
    ),
]


def community_activity(
    customer_ids: Iterable[int] | QuerySet | None = None,
    *,
    days: int = ACTIVITY_DAYS,
    until: dt.datetime | None = None,
) -> dict[int, dict[str, int]]:
    """{customer id: {source name: count, ..., "total": n}} over the ``days`` before
    ``until`` (now by default), for the customers given (a list, or a queryset of ids used
    as a subquery; None: the whole book). Customers with no activity are absent."""
    end = until or timezone.now()
    start = end - dt.timedelta(days=days)
    ids = (
        customer_ids
        if customer_ids is None or isinstance(customer_ids, QuerySet)
        else list(customer_ids)
    )
    result: dict[int, dict[str, int]] = {}
    for source in ACTIVITY_SOURCES:  # one grouped statement per source, not per customer
        qs = source.rows().filter(**{f"{source.when}__gte": start, f"{source.when}__lt": end})
        if ids is not None:
            qs = qs.filter(**{f"{source.customer}__in": ids})
        grouped = qs.order_by().values(source.customer).annotate(n=Count("pk"))
        for row in grouped.values_list(source.customer, "n"):
            counts = result.setdefault(
                row[0], {**{s.name: 0 for s in ACTIVITY_SOURCES}, "total": 0}
            )
            counts[source.name] = row[1]
            counts["total"] += row[1]
    return result


@dataclass(frozen=True)
class ActiveCustomer:
    customer: Customer
    counts: dict[str, int]

    @property
    def cells(self) -> list[int]:
        """The counts in the order of ACTIVITY_SOURCES (a table row's cells)."""
        return [self.counts[s.name] for s in ACTIVITY_SOURCES]


def customers_active_in_community(
    *, actor: User, days: int = ACTIVITY_DAYS, limit: int = 200
) -> list[ActiveCustomer]:
    """The actor's customers (their book; all for an admin) with community activity in the
    window, the most active first."""
    visible = customers_visible_to(actor)
    activity = community_activity(visible.values("pk"), days=days)
    ranked = sorted(activity.items(), key=lambda item: (-item[1]["total"], item[0]))[:limit]
    customers = visible.select_related("account_manager").in_bulk([pk for pk, _ in ranked])
    return [ActiveCustomer(customers[pk], counts) for pk, counts in ranked if pk in customers]


def helpful_contributions(
    *, customers: QuerySet[Customer], until: dt.datetime
) -> dict[int, tuple[str, int]]:
    """{customer id: (their stage, n)}: shipped ideas, approved reviews and accepted forum
    answers before ``until``, for the ladder's co-creation rule (three grouped statements).
    An answer counts from when it was written (the topic keeps no time of acceptance)."""
    found: dict[int, tuple[str, int]] = {}
    for qs, when in (
        (Idea.objects.filter(status=IdeaStatus.SHIPPED), "status_changed_at"),
        (Review.objects.filter(status=ReviewStatus.APPROVED), "moderated_at"),
        (_accepted_answers(), "created_at"),
    ):
        grouped = (
            qs.filter(customer__in=customers, **{f"{when}__lt": until})
            .order_by()
            .values("customer_id", "customer__stage")
            .annotate(n=Count("pk"))
            .values_list("customer_id", "customer__stage", "n")
        )
        for pk, stage, n in grouped:
            found[pk] = (stage, found.get(pk, (stage, 0))[1] + n)
    return found


# Every table whose rows count above, with its customer and time columns: the nightly
# run's incremental mode reads again the customers with rows written since its last night.
_WRITTEN = (
    (Post, "customer_id", "created_at"),
    (Idea, "customer_id", "created_at"),
    (IdeaVote, "customer_id", "created_at"),
    (IdeaComment, "customer_id", "created_at"),
    (Review, "customer_id", "created_at"),
)


def customers_with_activity_between(ranges: list[tuple[dt.datetime, dt.datetime]]) -> set[int]:
    """Customers with a community row dated in any of ``ranges`` (start inclusive, end
    exclusive), whatever its state: new rows, and rows leaving the 90-day window."""
    found: set[int] = set()
    for model, customer, when in _WRITTEN:
        window = Q()
        for start, end in ranges:
            window |= Q(**{f"{when}__gte": start, f"{when}__lt": end})
        rows = model.objects.filter(window, **{f"{customer}__isnull": False})
        found.update(rows.order_by().values_list(customer, flat=True).distinct())
    return found
