"""Community models, one module per part: forums (categories, topics, posts), moderation,
co-creation (ideas, reviews). Re-exported here so Django and callers find them."""

from .forums import (
    BODY_MAX,
    TITLE_MAX,
    Category,
    CategoryAccess,
    Notification,
    NotificationKind,
    Post,
    PostLike,
    PostRevision,
    PostStatus,
    Subscription,
    Topic,
    TopicKind,
    TopicReadMarker,
)
from .moderation import (
    ModerationAction,
    ModerationActionKind,
    Moderator,
    PostingBan,
    Report,
)

__all__ = [
    "BODY_MAX",
    "TITLE_MAX",
    "Category",
    "CategoryAccess",
    "ModerationAction",
    "ModerationActionKind",
    "Moderator",
    "Notification",
    "NotificationKind",
    "Post",
    "PostLike",
    "PostRevision",
    "PostStatus",
    "PostingBan",
    "Report",
    "Subscription",
    "Topic",
    "TopicKind",
    "TopicReadMarker",
]
