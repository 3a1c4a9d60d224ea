"""Writes of the community, one module per part; each use case is one transaction."""

from .ideas import (
    IDEA_SHIPPED_EVENT,
    idea_comment,
    idea_comment_moderate,
    idea_moderate,
    idea_propose,
    idea_set_status,
    idea_unvote,
    idea_vote,
)
from .reviews import REVIEW_EVENT, review_moderate, review_write

__all__ = [
    "IDEA_SHIPPED_EVENT",
    "REVIEW_EVENT",
    "idea_comment",
    "idea_comment_moderate",
    "idea_moderate",
    "idea_propose",
    "idea_set_status",
    "idea_unvote",
    "idea_vote",
    "review_moderate",
    "review_write",
]
