"""Community models, one module per part: forums (categories, topics, posts), moderation,
co-creation (ideas, reviews). Re-exported here so Django and callers find them."""

from .ideas import (
    CLOSED_STATUSES,
    STAFF_STATUS_CHOICES,
    STAFF_STATUSES,
    Idea,
    IdeaComment,
    IdeaStatus,
    IdeaStatusChange,
    IdeaVote,
)
from .reviews import Review, ReviewStatus

__all__ = [
    "CLOSED_STATUSES",
    "STAFF_STATUSES",
    "STAFF_STATUS_CHOICES",
    "Idea",
    "IdeaComment",
    "IdeaStatus",
    "IdeaStatusChange",
    "IdeaVote",
    "Review",
    "ReviewStatus",
]
