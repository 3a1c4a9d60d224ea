"""Reads for moderators: the queue, the log, bans."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from customers.models import User

from ..models import ModerationAction, Post, PostingBan, PostStatus, Report
from .forums import Actor, categories_moderated_by


def active_ban(*, user: Actor) -> PostingBan | None:
    if not user.is_authenticated:
        return None
    now = timezone.now()
    return (
        PostingBan.objects.filter(user_id=user.pk, lifted_at__isnull=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .first()
    )


def moderation_queue(*, actor: Actor) -> list[Post]:
    """One queue: posts held for approval and posts with open reports, in the categories
    the actor moderates, oldest first. Each post carries `open_reports` (prefetched)."""
    moderated = categories_moderated_by(actor).values("pk")
    open_reports = Report.objects.filter(resolved_at__isnull=True).select_related("reporter")
    return list(
        Post.objects.filter(topic__category__in=moderated)
        .annotate(
            reported=Exists(Report.objects.filter(post=OuterRef("pk"), resolved_at__isnull=True)),
            report_count=Count("reports", filter=Q(reports__resolved_at__isnull=True)),
        )
        .filter(Q(status=PostStatus.HELD) | Q(reported=True))
        .select_related("topic", "topic__category", "author", "customer")
        .prefetch_related(Prefetch("reports", queryset=open_reports, to_attr="open_reports"))
        .order_by("created_at", "id")[:200]
    )


def moderation_log(*, actor: Actor, limit: int = 200) -> QuerySet[ModerationAction]:
    """Actions in the categories the actor moderates, plus bans (global)."""
    moderated = categories_moderated_by(actor).values("pk")
    return ModerationAction.objects.filter(
        Q(topic__category__in=moderated) | Q(topic__isnull=True)
    ).select_related("actor", "topic", "post", "target_user")[:limit]


def bans_in_force() -> QuerySet[PostingBan]:
    now = timezone.now()
    return (
        PostingBan.objects.filter(lifted_at__isnull=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("user", "banned_by")
    )


def community_users(*, query: str, limit: int = 20) -> QuerySet[User]:
    """People a moderator may ban, by username or name."""
    query = (query or "").replace("\x00", "").strip()[:100]
    users = User.objects.filter(is_active=True)
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    return users.order_by("username")[:limit]
