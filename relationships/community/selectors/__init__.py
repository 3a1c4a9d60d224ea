"""Reads of the community, including who may see what (pages and API use the same)."""

from .activity import (
    ACTIVITY_DAYS,
    ACTIVITY_SOURCES,
    ActiveCustomer,
    ActivitySource,
    community_activity,
    customers_active_in_community,
    helpful_contributions,
)
from .ideas import (
    IDEA_SORTS,
    comment_get,
    comments_visible_to,
    idea_board,
    idea_comments,
    idea_get,
    idea_history,
    idea_triage,
    ideas_visible_to,
    with_my_vote,
)
from .reviews import (
    my_reviews,
    product_ratings,
    published_reviews,
    review_get,
    review_queue,
    reviewable_products,
    reviews_visible_to,
)
from .timeline import customer_ideas, customer_reviews

__all__ = [
    "ACTIVITY_DAYS",
    "ACTIVITY_SOURCES",
    "IDEA_SORTS",
    "ActiveCustomer",
    "ActivitySource",
    "comment_get",
    "comments_visible_to",
    "community_activity",
    "customer_ideas",
    "customer_reviews",
    "customers_active_in_community",
    "helpful_contributions",
    "idea_board",
    "idea_comments",
    "idea_get",
    "idea_history",
    "idea_triage",
    "ideas_visible_to",
    "my_reviews",
    "product_ratings",
    "published_reviews",
    "review_get",
    "review_queue",
    "reviewable_products",
    "reviews_visible_to",
    "with_my_vote",
]
