"""Reads on interactions, follow-ups and the customer timeline, scoped by the same
visibility rule as customers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.template.defaultfilters import floatformat
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime

from customers.models import Customer, Purchase, User
from customers.selectors import customers_visible_to

from ..community.models import Idea, Post, PostStatus, Review, TopicKind
from ..community.selectors import customer_ideas, customer_posts, customer_reviews
from ..models import Channel, Interaction, InteractionKind, Sentiment


def interactions_visible_to(actor: User) -> QuerySet[Interaction]:
    return Interaction.objects.filter(customer__in=customers_visible_to(actor))


def interaction_get(*, actor: User, pk: int) -> Interaction:
    try:
        return interactions_visible_to(actor).select_related("customer", "author").get(pk=pk)
    except (Interaction.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such interaction.") from exc


def follow_ups_due(*, actor: User, until: dt.date | None = None) -> QuerySet[Interaction]:
    """Open follow-ups on the actor's book, overdue first. For an account manager, the book
    is their customers; an admin sees the follow-ups they themselves wrote."""
    qs = interactions_visible_to(actor).filter(
        follow_up_on__isnull=False, follow_up_done_at__isnull=True
    )
    if actor.is_admin:
        qs = qs.filter(author=actor)
    if until is not None:
        qs = qs.filter(follow_up_on__lte=until)
    return qs.select_related("customer", "author").order_by("follow_up_on", "id")


@dataclass(frozen=True)
class FollowUpCounts:
    """The open follow-ups of `follow_ups_due` up to a day, by when they are due."""

    overdue: int
    today: int
    upcoming: int

    @property
    def total(self) -> int:
        return self.overdue + self.today + self.upcoming

    @property
    def due_now(self) -> int:
        """Overdue or due today: the number on the menu's Follow-ups badge."""
        return self.overdue + self.today


def follow_up_counts(*, actor: User, until: dt.date | None = None) -> FollowUpCounts:
    """One statement for every count a follow-up page shows, so a quick action can send
    them all back with its answer."""
    day = today()
    counts = (
        follow_ups_due(actor=actor, until=until or day)
        .order_by()
        .aggregate(
            overdue=Count("pk", filter=Q(follow_up_on__lt=day)),
            today=Count("pk", filter=Q(follow_up_on=day)),
            upcoming=Count("pk", filter=Q(follow_up_on__gt=day)),
        )
    )
    return FollowUpCounts(**counts)


# At equal times an interaction sorts before a purchase, then the higher id first. The
# community's ideas and reviews (the customer co-creating with us) come in between.
_RANK = {"purchase": 0, "review": 1, "idea": 2, "post": 3, "interaction": 4}


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "interaction", "purchase", "idea" or "review"
    occurred_at: dt.datetime
    obj: Interaction | Purchase | Idea | Review

    @property
    def amount(self) -> Decimal | None:
        return getattr(self.obj, "amount", None)

    @property
    def sort_key(self) -> tuple[dt.datetime, int, int]:
        return (self.occurred_at, _RANK[self.kind], self.obj.pk)


@dataclass(frozen=True)
class TimelineCursor:
    """Where a timeline page ended: (time, kind, id), so entries sharing a time are
    neither skipped nor repeated. Serialised as "<iso time>~<kind>~<id>"."""

    occurred_at: dt.datetime
    kind: str
    pk: int

    @property
    def token(self) -> str:
        return f"{self.occurred_at.isoformat()}~{self.kind}~{self.pk}"

    @classmethod
    def parse(cls, token: str) -> TimelineCursor:
        try:
            when, kind, pk = token.replace(" ", "+").split("~")
            occurred_at = parse_datetime(when)
            if occurred_at is None or kind not in _RANK:
                raise ValueError(token)
            if timezone.is_naive(occurred_at):
                occurred_at = timezone.make_aware(occurred_at)
            return cls(occurred_at, kind, int(pk))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"Not a timeline position: {token!r}") from exc


def _after_cursor(qs: QuerySet, kind: str, cursor: TimelineCursor | None) -> QuerySet:
    """Rows strictly after the cursor in (time, rank, id) descending order."""
    if cursor is None:
        return qs
    rank, cursor_rank = _RANK[kind], _RANK[cursor.kind]
    older = Q(occurred_at__lt=cursor.occurred_at)
    if rank < cursor_rank:
        same_time = Q(occurred_at=cursor.occurred_at)
    elif rank == cursor_rank:
        same_time = Q(occurred_at=cursor.occurred_at, pk__lt=cursor.pk)
    else:
        same_time = Q(pk__in=[])
    return qs.filter(older | same_time)


def customer_timeline(
    *, customer: Customer, limit: int = 30, before: TimelineCursor | None = None
) -> tuple[list[TimelineEntry], TimelineCursor | None]:
    """Interactions, purchases, and the customer's forum posts, ideas and reviews in the
    community, newest first: five indexed queries, merged in Python. Returns the page and the cursor
    to continue from, or None at the end."""
    interactions = list(
        _after_cursor(
            customer.interactions.select_related("author", "root_cause"), "interaction", before
        ).order_by("-occurred_at", "-id")[: limit + 1]
    )
    purchases = list(
        _after_cursor(customer.purchases.all(), "purchase", before).order_by("-occurred_at", "-id")[
            : limit + 1
        ]
    )
    ideas = list(
        _after_cursor(customer_ideas(customer=customer), "idea", before).order_by(
            "-occurred_at", "-id"
        )[: limit + 1]
    )
    reviews = list(
        _after_cursor(customer_reviews(customer=customer), "review", before).order_by(
            "-occurred_at", "-id"
        )[: limit + 1]
    )
    posts = list(
        _after_cursor(customer_posts(customer=customer), "post", before).order_by(
            "-occurred_at", "-id"
        )[: limit + 1]
    )
    entries = [TimelineEntry("interaction", i.occurred_at, i) for i in interactions]
    entries += [TimelineEntry("post", p.created_at, p) for p in posts]
    entries += [TimelineEntry("purchase", p.occurred_at, p) for p in purchases]
    entries += [TimelineEntry("idea", i.created_at, i) for i in ideas]
    entries += [TimelineEntry("review", r.created_at, r) for r in reviews]
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    page = entries[:limit]
    if len(entries) <= limit:
        return page, None
    last = page[-1]
    return page, TimelineCursor(last.occurred_at, last.kind, last.obj.pk)


_ICONS = {"sale": "$", "support": "?", "training": "✎", "complaint": "!", "feedback": "★"}
_CHANNELS = dict(Channel.choices)
_KINDS = dict(InteractionKind.choices)
_SENTIMENTS = dict(Sentiment.choices)


def _when(value: dt.datetime) -> tuple[str, str]:
    """(ISO 8601, "Y-m-d H:i") in the current time zone, as the `date` filter shows them."""
    local = timezone.template_localtime(value)  # type: ignore[attr-defined]  # not in django-stubs
    return local.isoformat(), dateformat.format(local, "Y-m-d H:i")


def timeline_row(entry: TimelineEntry) -> dict[str, Any]:
    """What relationships/_timeline_entry.html shows for one entry, worked out here once:
    labels, formatted times and amounts cost a template lookup and a filter call per
    value, twenty to thirty entries per customer page."""
    obj = entry.obj
    iso, when = _when(entry.occurred_at)
    if isinstance(obj, Idea | Review | Post):
        return _community_row(obj, iso, when)
    if isinstance(obj, Purchase):  # entry.kind == "purchase"
        return {
            "is_purchase": True,
            "pk": obj.pk,
            "iso": iso,
            "when": when,
            "reference": obj.reference,
            "amount": intcomma(floatformat(obj.amount, 2)),
            "currency": obj.currency,
            "product": obj.product,
            "category": obj.category,
        }
    interaction = obj
    return {
        "is_purchase": False,
        "pk": obj.pk,
        "iso": iso,
        "when": when,
        "kind": obj.kind,
        "icon": _ICONS.get(obj.kind, "✓"),
        "subject": obj.subject,
        "kind_label": _KINDS.get(obj.kind, obj.kind),
        "sentiment": obj.sentiment + 2,
        "sentiment_label": _SENTIMENTS.get(obj.sentiment, obj.sentiment),
        "channel_label": _CHANNELS.get(obj.channel, obj.channel),
        "author": str(obj.author),
        "follow_up_on": obj.follow_up_on.isoformat() if obj.follow_up_on else "",
        "follow_up_done": obj.follow_up_done_at is not None,
        "notes": obj.notes,
        "is_complaint": interaction.kind == InteractionKind.COMPLAINT,
        "root_cause": interaction.root_cause.name if interaction.root_cause else "",
    }


def _community_row(obj: Idea | Review | Post, iso: str, when: str) -> dict[str, Any]:
    """A forum post, an idea or a review on the staff timeline: what it is, its state, a
    link to it."""
    common = {"is_purchase": False, "is_community": True, "pk": obj.pk, "iso": iso, "when": when}
    if isinstance(obj, Post):
        topic = obj.topic
        opening = obj.number == 1
        if getattr(obj, "accepted", False):
            state, state_class = "Accepted answer", "shipped"
        elif obj.status != PostStatus.VISIBLE:
            state, state_class = obj.get_status_display(), obj.status
        else:
            state, state_class = "Posted", "open"
        question = topic.kind == TopicKind.QUESTION
        return {
            **common,
            "kind": "post",
            "icon": "❝",
            "subject": topic.title,
            "kind_label": ("Question" if question else "Topic") if opening else "Forum reply",
            "state": state,
            "state_class": state_class,
            "detail": f"{obj.like_count} like{'s' if obj.like_count != 1 else ''}",
            "url_name": "community:topic",
            "url_pk": topic.pk,
        }
    if isinstance(obj, Idea):
        state = "Hidden" if obj.is_hidden else obj.get_status_display()
        return {
            **common,
            "kind": "idea",
            "icon": "✦",
            "subject": obj.title,
            "kind_label": "Idea",
            "state": state,
            "state_class": "hidden" if obj.is_hidden else obj.status,
            "detail": f"{obj.vote_count} vote{'s' if obj.vote_count != 1 else ''}",
            "url_name": "community:idea-detail",
            "url_pk": obj.pk,
        }
    return {
        **common,
        "kind": "review",
        "icon": "★",
        "subject": f"Review of {obj.product}",
        "kind_label": "Review",
        "state": obj.get_status_display(),
        "state_class": obj.status,
        "detail": f"{obj.rating}/5",
        "url_name": "community:review-queue",
    }


def today() -> dt.date:
    return timezone.localdate()
