"""A customer's forum posts, ideas and reviews for the staff timeline (relationships' customer_timeline
merges them with interactions and purchases). Staff see all of them, hidden and
rejected ones too, so the rows carry their state."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, QuerySet

from customers.models import Customer

from ..models import Idea, Post, Review, Topic


def customer_ideas(*, customer: Customer) -> QuerySet[Idea]:
    """The customer's ideas, with ``occurred_at`` (when proposed) for the timeline's cursor."""
    return Idea.objects.filter(customer=customer).annotate(occurred_at=F("created_at"))


def customer_reviews(*, customer: Customer) -> QuerySet[Review]:
    return Review.objects.filter(customer=customer).annotate(occurred_at=F("created_at"))


def customer_posts(*, customer: Customer) -> QuerySet[Post]:
    """The customer's forum posts (held and hidden ones too), each marked ``accepted`` when
    its topic took it as the answer."""
    return (
        Post.objects.filter(customer=customer)
        .select_related("topic")
        .annotate(
            occurred_at=F("created_at"),
            accepted=Exists(Topic.objects.filter(accepted_post=OuterRef("pk"))),
        )
    )
