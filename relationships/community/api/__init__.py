"""The community's part of /api/v1/: crm.api_urls calls ``register(router)``."""

from rest_framework.routers import BaseRouter

from . import forums


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
