"""The community's part of /api/v1/: crm.api_urls calls ``register(router)``."""

from rest_framework.routers import BaseRouter

from . import forums
from .ideas import IdeaCommentViewSet, IdeaViewSet
from .reviews import ReviewViewSet


def register(router: BaseRouter) -> None:
    """Each part of the community adds its viewsets here."""
    router.register(
        "community/categories", forums.CategoryViewSet, basename="api-community-category"
    )
    router.register("community/topics", forums.TopicViewSet, basename="api-community-topic")
    router.register("community/posts", forums.PostViewSet, basename="api-community-post")
    router.register(
        "community/moderation-queue", forums.ModerationQueueViewSet, basename="api-community-queue"
    )
    router.register("community/bans", forums.BanViewSet, basename="api-community-ban")
    router.register(
        "community/notifications", forums.NotificationViewSet, basename="api-community-notification"
    )
    # Co-creation: the ideas board and product reviews
    router.register("ideas", IdeaViewSet, basename="api-idea")
    router.register("idea-comments", IdeaCommentViewSet, basename="api-idea-comment")
    router.register("reviews", ReviewViewSet, basename="api-review")
