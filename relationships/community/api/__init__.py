"""The community's part of /api/v1/: crm.api_urls calls ``register(router)``."""

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Each part of the community adds its viewsets here."""
