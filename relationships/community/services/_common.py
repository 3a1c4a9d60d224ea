"""What the forum and moderation services share: text checks, the search vector, topic
counters, notifications and the moderation log."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, Max, Value
from django.urls import reverse

from customers.errors import NotAllowed, ValidationFailed
from customers.models import User

from ..models import (
    ModerationAction,
    Notification,
    Post,
    PostStatus,
    Topic,
)
from ..selectors import Actor, is_moderator
from ..selectors.forums import SEARCH_CONFIG, post_path


def clean_text(
    value: object, *, field: str, max_length: int, label: str, required: bool = True
) -> str:
    """User text as the services accept it: a string, no NUL bytes, not too long."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise ValidationFailed(f"The {label} contains a NUL character.", field=field)
    text = text.strip()
    if required and not text:
        raise ValidationFailed(f"Please write the {label}.", field=field)
    if len(text) > max_length:
        raise ValidationFailed(
            f"The {label} is too long ({len(text)} characters; at most {max_length}).", field=field
        )
    return text


def signed_in(actor: Actor) -> User:
    if not isinstance(actor, User) or not actor.is_authenticated:
        raise NotAllowed("Please log in first.")
    return actor


def require_moderator(actor: Actor, topic: Topic) -> User:
    user = signed_in(actor)
    if not is_moderator(user, topic.category):
        raise NotAllowed("Only a moderator of this category may do this.")
    return user


def update_search_vector(post: Post) -> None:
    """PostgreSQL keeps a weighted vector (the topic's title above the body); SQLite has
    no full-text search, the selector falls back to LIKE."""
    if connection.vendor != "postgresql":
        return
    title = post.topic.title if post.number == 1 else ""
    Post.objects.filter(pk=post.pk).update(
        search_vector=SearchVector(Value(title), weight="A", config=SEARCH_CONFIG)
        + SearchVector("source", weight="B", config=SEARCH_CONFIG)
    )


def refresh_topic_counters(topic: Topic) -> None:
    """Counters over the visible posts, after any post changes state."""
    figures = Post.objects.filter(topic=topic, status=PostStatus.VISIBLE).aggregate(
        n=Count("pk"), last=Max("number"), at=Max("created_at")
    )
    topic.reply_count = max((figures["n"] or 0) - 1, 0)
    topic.last_post_number = figures["last"] or 0
    topic.last_posted_at = figures["at"] or topic.created_at
    if (
        topic.accepted_post_id
        and not Post.objects.filter(pk=topic.accepted_post_id, status=PostStatus.VISIBLE).exists()
    ):
        # A hidden answer is no longer the accepted one.
        topic.accepted_post = None
    topic.save(update_fields=["reply_count", "last_post_number", "last_posted_at", "accepted_post"])


def topic_url(topic: Topic, post: Post | None = None) -> str:
    if post is not None:
        path = post_path(topic.pk, post.number)
    else:
        path = reverse("community:topic", args=[topic.pk])
    return getattr(settings, "CRM_SITE_URL", "").rstrip("/") + path


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    topic: Topic,
    post: Post | None,
    text: str,
    email_to: Iterable[User] = (),
) -> None:
    """In-app notifications now; e-mails once the transaction has committed, so a rolled
    back post sends nothing and a mail server outage loses nothing in the database."""
    people = {u.pk: u for u in recipients}
    Notification.objects.bulk_create(
        [
            Notification(recipient=u, kind=kind, topic=topic, post=post, text=text[:300])
            for u in people.values()
        ]
    )
    addresses = sorted({u.email for u in email_to if u.email and u.pk in people})
    if not addresses:
        return
    url = topic_url(topic, post)
    subject = f"[Community] {text}"[:200].replace("\n", " ")
    body = f"{text}\n\n{url}\n\nYou are receiving this because you follow the topic."

    def send() -> None:
        for address in addresses:
            send_mail(subject, body, None, [address], fail_silently=True)

    transaction.on_commit(send)


def log_action(
    *,
    actor: User,
    kind: str,
    topic: Topic | None = None,
    post: Post | None = None,
    target_user: User | None = None,
    reason: str = "",
    details: dict | None = None,
) -> ModerationAction:
    return ModerationAction.objects.create(
        actor=actor,
        kind=kind,
        topic=topic,
        post=post,
        target_user=target_user,
        reason=reason[:500],
        details=details or {},
    )
