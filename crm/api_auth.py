"""The token endpoint, throttled (kept apart from crm.api, which DRF imports while loading)."""

from django.conf import settings
from rest_framework import throttling
from rest_framework.authtoken import views as authtoken_views


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """Slows password guessing on the token endpoint: attempts per client address.
    The rate is read per request so operators (and tests) can change CRM_TOKEN_RATE."""

    scope = "auth-token"

    def get_rate(self) -> str:
        return settings.CRM_TOKEN_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ObtainAuthToken(authtoken_views.ObtainAuthToken):
    throttle_classes = [TokenRateThrottle]
    permission_classes = []
