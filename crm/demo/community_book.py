"""Many forum topics at once, for the demo (a few hundred) and the bench book (1M posts).

The services write one post at a time (render, sanitise, index, notify), which is right
for people and far too slow for a million rows. This writer draws titles and bodies from
a small phrase book, renders each distinct body once with the same Markdown pipeline the
services use, and bulk-inserts topics and posts with their counters already right, so the
pages read them exactly as they read posts written through the services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from customers.models import User
from relationships.community.markdown import render_markdown
from relationships.community.models import Category, Post, PostStatus, Topic, TopicKind
from relationships.community.selectors.forums import SEARCH_CONFIG

SUBJECTS = (
    "invoices", "delivery times", "the loyalty points", "bulk orders", "returns",
    "the mobile app", "payment terms", "the yearly statement", "gift cards", "packaging",
    "the new catalogue", "opening hours", "spare parts", "the warranty", "a second address",
    "price lists", "the tier benefits", "our account manager", "the webshop login", "samples",
)  # fmt: skip
QUESTIONS = (
    "How do I change {s}?",
    "Anyone else having trouble with {s}?",
    "What is the best way to handle {s}?",
    "Question about {s}",
    "Where can I find {s}?",
)
DISCUSSIONS = (
    "Our experience with {s}",
    "A tip about {s}",
    "Feedback on {s}",
    "{s}: what works for us",
)
OPENERS = (
    "We have been customers for a few years and this came up again this week: **{s}**. "
    "What do the rest of you do?",
    "Short one: has anyone found a quick way to deal with {s}? We tried the obvious.",
    "Sharing what worked for us with {s}, in case it helps someone:\n\n"
    "1. ask early\n2. keep the order number\n3. follow up after a week",
)
REPLIES = (
    "Same here. Following this.",
    "We asked our account manager about {s} and had an answer the same day.",
    "It is under *Your account*, then *Documents*. Took me a while to find too.",
    "Thanks, that solved it for us.",
    "For {s} we keep a checklist; happy to share it if useful.",
    "The help pages explain {s}, but the short version is: do it before noon.",
    "> ask early\n\nThis. Everything else follows.",
    "We had the opposite experience, but it was a while ago.",
)


@dataclass(frozen=True)
class Written:
    topics: int
    posts: int


def write_topics(
    *,
    categories: Sequence[Category],
    authors: Sequence[User],
    staff: Sequence[User],
    topics: int,
    mean_replies: float,
    seed: int = 7,
    days: int = 365,
    long_topic_replies: int = 0,
    batch: int = 5_000,
    log: Callable[[str], None] = print,
) -> Written:
    """Write `topics` visible topics in `categories`, about `mean_replies` replies each
    (geometric, so most threads are short and a few are long), by `authors` (customers)
    with one reply in ten by `staff`; half are questions, one in three of those has an
    accepted answer. With `long_topic_replies`, the first topic gets that many replies."""
    if not categories or not authors:
        raise ValueError("write_topics needs at least one category and one author")
    rng = np.random.default_rng(seed)
    renders: dict[str, str] = {}

    def html(source: str) -> str:
        if source not in renders:
            renders[source] = render_markdown(source)
        return renders[source]

    customer_of = dict(
        User.objects.filter(pk__in=[u.pk for u in authors]).values_list("pk", "customer_record__pk")
    )
    now = timezone.now()
    written = Written(0, 0)
    for start in range(0, topics, batch):
        count = min(batch, topics - start)
        replies = rng.geometric(1.0 / (mean_replies + 1.0), size=count) - 1
        if start == 0 and long_topic_replies:
            replies[0] = long_topic_replies
        with transaction.atomic():
            written = _write_batch(
                rng=rng,
                html=html,
                now=now,
                days=days,
                categories=categories,
                authors=authors,
                staff=staff,
                customer_of=customer_of,
                replies=replies,
                written=written,
            )
        log(f"  community: {written.topics:,} topics, {written.posts:,} posts")
    return written


def _write_batch(
    *,
    rng: np.random.Generator,
    html: Callable[[str], str],
    now: dt.datetime,
    days: int,
    categories: Sequence[Category],
    authors: Sequence[User],
    staff: Sequence[User],
    customer_of: Mapping[int, int | None],
    replies: np.ndarray,
    written: Written,
) -> Written:
    count = len(replies)
    subjects = rng.integers(0, len(SUBJECTS), size=count)
    questions = rng.random(count) < 0.5
    started = [now - dt.timedelta(days=days * float(x)) for x in rng.random(count)]
    topic_rows = []
    for i in range(count):
        subject = SUBJECTS[subjects[i]]
        titles = QUESTIONS if questions[i] else DISCUSSIONS
        title = titles[(written.topics + i) % len(titles)].format(s=subject)
        topic_rows.append(
            Topic(
                category=categories[(written.topics + i) % len(categories)],
                title=title[:1].upper() + title[1:],
                kind=TopicKind.QUESTION if questions[i] else TopicKind.DISCUSSION,
                author=authors[int(rng.integers(len(authors)))],
                status=PostStatus.VISIBLE,
                reply_count=int(replies[i]),
                last_post_number=int(replies[i]) + 1,
                created_at=started[i],
                last_posted_at=started[i],
            )
        )
    created = Topic.objects.bulk_create(topic_rows)
    post_rows = []
    for i, topic in enumerate(created):
        subject = SUBJECTS[subjects[i]]
        opener = OPENERS[int(rng.integers(len(OPENERS)))].format(s=subject)
        post_rows.append(_post(topic, 1, topic.author, opener, html, customer_of, topic.created_at))
        at = topic.created_at
        for number in range(2, int(replies[i]) + 2):
            at = min(at + dt.timedelta(minutes=float(rng.exponential(600))), now)
            by_staff = bool(staff) and rng.random() < 0.1
            author = (
                staff[int(rng.integers(len(staff)))]
                if by_staff
                else authors[int(rng.integers(len(authors)))]
            )
            body = REPLIES[int(rng.integers(len(REPLIES)))].format(s=subject)
            post_rows.append(_post(topic, number, author, body, html, customer_of, at, by_staff))
        topic.last_posted_at = at
    posts = Post.objects.bulk_create(post_rows, batch_size=5_000)
    first_replies = {p.topic_id: p for p in posts if p.number == 2}
    accepted = []
    for topic in created:
        if topic.kind == TopicKind.QUESTION and topic.reply_count and topic.pk % 3 == 0:
            topic.accepted_post = first_replies[topic.pk]
            accepted.append(topic)
    Topic.objects.bulk_update(created, ["last_posted_at"], batch_size=5_000)
    Topic.objects.bulk_update(accepted, ["accepted_post"], batch_size=5_000)
    if connection.vendor == "postgresql":
        # What update_search_vector does per post (the title weighs on the opening post
        # only), for the whole batch in one statement.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Post._meta.db_table} AS p SET search_vector =
                    setweight(to_tsvector(%s::regconfig,
                        CASE WHEN p.number = 1 THEN t.title ELSE '' END), 'A')
                    || setweight(to_tsvector(%s::regconfig, p.source), 'B')
                FROM {Topic._meta.db_table} AS t
                WHERE t.id = p.topic_id AND p.topic_id = ANY(%s)
                """,  # noqa: S608 (table names from the models, values as parameters)
                [SEARCH_CONFIG, SEARCH_CONFIG, [t.pk for t in created]],
            )
    return Written(written.topics + len(created), written.posts + len(posts))


def _post(
    topic: Topic,
    number: int,
    author: User,
    source: str,
    html: Callable[[str], str],
    customer_of: Mapping[int, int | None],
    at: dt.datetime,
    by_staff: bool = False,
) -> Post:
    return Post(
        topic=topic,
        number=number,
        author=author,
        customer_id=None if by_staff else customer_of.get(author.pk),
        by_staff=by_staff,
        source=source,
        html=html(source),
        status=PostStatus.VISIBLE,
        created_at=at,
    )
