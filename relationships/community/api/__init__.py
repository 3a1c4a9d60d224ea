"""The community's part of /api/v1/: crm.api_urls calls ``register(router)``."""

from rest_framework.routers import BaseRouter

from .ideas import IdeaCommentViewSet, IdeaViewSet
from .reviews import ReviewViewSet


def register(router: BaseRouter) -> None:
    """Each part of the community adds its viewsets here."""
    # Co-creation: the ideas board and product reviews
    router.register("ideas", IdeaViewSet, basename="api-idea")
    router.register("idea-comments", IdeaCommentViewSet, basename="api-idea-comment")
    router.register("reviews", ReviewViewSet, basename="api-review")
