"""The customer's own community activity, for their portal home and their data export.
Everything here is filtered on the customer (or their login), never on an id from a URL."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from customers.models import Customer, User

from ..models import Idea, IdeaComment, Post, PostStatus, Review
from .forums import post_path


def my_recent_activity(*, customer: Customer, user: User, limit: int = 5) -> list[dict]:
    """Their latest forum posts, ideas and reviews, newest first (one query per kind).
    Hidden ideas and posts a moderator removed are left out; held posts and pending reviews
    show with their state, so the author knows they are waiting."""
    rows: list[dict] = []
    posts = (
        Post.objects.filter(author=user)
        .exclude(status=PostStatus.HIDDEN)
        .select_related("topic")
        .order_by("-created_at", "-id")[:limit]
    )
    for post in posts:
        rows.append(
            {
                "kind": "Reply" if post.number > 1 else "Topic",
                "title": post.topic.title,
                "url": post_path(post.topic_id, post.number),
                "at": post.created_at,
                "state": post.get_status_display() if post.status != PostStatus.VISIBLE else "",
            }
        )
    for idea in Idea.objects.filter(customer=customer, is_hidden=False).order_by("-created_at")[
        :limit
    ]:
        rows.append(
            {
                "kind": "Idea",
                "title": idea.title,
                "url": reverse("community:idea-detail", args=[idea.pk]),
                "at": idea.created_at,
                "state": idea.get_status_display(),
            }
        )
    for review in Review.objects.filter(customer=customer).order_by("-created_at")[:limit]:
        rows.append(
            {
                "kind": "Review",
                "title": review.product,
                "url": reverse("community:review-list"),
                "at": review.created_at,
                "state": review.get_status_display(),
            }
        )
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows[:limit]


def community_export(*, customer: Customer, user: User | None) -> dict[str, Any]:
    """What the customer wrote in the community (as written, with its state). Moderators'
    notes and who moderated are internal and left out."""
    posts = (
        list(
            Post.objects.filter(author=user)
            .order_by("created_at", "id")
            .values("created_at", "topic__title", "number", "source", "status", "edited_at")
        )
        if user is not None
        else []
    )
    return {
        "forum_posts": posts,
        "ideas": list(
            Idea.objects.filter(customer=customer)
            .order_by("created_at", "id")
            .values("created_at", "title", "body", "status", "vote_count")
        ),
        "idea_comments": list(
            IdeaComment.objects.filter(customer=customer)
            .order_by("created_at", "id")
            .values("created_at", "idea__title", "body")
        ),
        "reviews": list(
            Review.objects.filter(customer=customer)
            .order_by("created_at", "id")
            .values("created_at", "product", "rating", "body", "status")
        ),
    }
