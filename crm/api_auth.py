"""The token endpoint, throttled (kept apart from crm.api, which DRF imports while loading)."""

from django.conf import settings
from rest_framework import exceptions, throttling
from rest_framework.authtoken import views as authtoken_views
from rest_framework.authtoken.models import Token
from rest_framework.response import Response

from crm.client_address import client_address
from crm.lockout import cooloff_seconds, lockout_message


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """Slows password guessing on the token endpoint: attempts per client address, counted
    in the default cache (Redis in production, shared by every worker process).
    The rate is read per request so operators (and tests) can change CRM_TOKEN_RATE."""

    scope = "auth-token"

    def get_rate(self) -> str:
        return settings.CRM_TOKEN_RATE

    def get_ident(self, request) -> str:
        # X-Forwarded-For is read only as far as CRM_TRUSTED_PROXIES allows.
        return client_address(request) or ""

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view) -> bool:
        """A counter per fixed window, raised with the cache's atomic increment. DRF's own
        throttle reads a list of times and writes it back, so processes asking at the same
        moment each see room and all get through (15 of 10 in the four-process test)."""
        self.rate = self.get_rate()
        limit, duration = self.parse_rate(self.rate)
        if limit is None or duration is None:  # no rate set: no limit
            return True
        self.now = self.timer()
        window = int(self.now // duration)
        self.window_ends = (window + 1) * duration
        key = f"{self.get_cache_key(request, view)}:{window}"
        self.cache.add(key, 0, duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # expired between add and incr: this attempt opens the window
            self.cache.add(key, 1, duration + 1)
            count = 1
        return count <= limit

    def wait(self) -> float:
        return max(self.window_ends - self.now, 1.0)


class LockedOut(exceptions.Throttled):
    """django-axes refused the login: 429 with Retry-After, as the login page answers."""

    default_code = "locked_out"


class ObtainAuthToken(authtoken_views.ObtainAuthToken):
    throttle_classes = [TokenRateThrottle]
    permission_classes = []

    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes marks the request it was given (this DRF request) when it refused
            # the attempt; the serializer alone would say the credentials were wrong.
            if getattr(request, "axes_locked_out", False):
                raise LockedOut(wait=cooloff_seconds(request), detail=lockout_message(request))
            raise exceptions.ValidationError(serializer.errors)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
