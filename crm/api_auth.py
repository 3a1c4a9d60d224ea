"""The token endpoint, throttled and asking for the second factor as the sign-in page does
(kept apart from crm.api, which DRF imports while loading)."""

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, throttling
from rest_framework.authtoken import serializers as authtoken_serializers
from rest_framework.authtoken import views as authtoken_views
from rest_framework.authtoken.models import Token
from rest_framework.response import Response

from crm.client_address import client_address
from crm.lockout import cooloff_seconds, lockout_message
from customers.access import (
    OTP_MISSING,
    OTP_WRONG,
    TWO_FACTOR_NOT_SET_UP,
    api_token_second_factor,
)
from customers.errors import WrongCode


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


class AuthTokenSerializer(authtoken_serializers.AuthTokenSerializer):
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        write_only=True,
        help_text="For a login with two-factor sign-in turned on: the current code from the "
        "authenticator app, or one of the login's unused recovery codes (then used up).",
    )


class ObtainAuthToken(authtoken_views.ObtainAuthToken):
    throttle_classes = [TokenRateThrottle]
    permission_classes = []
    serializer_class = AuthTokenSerializer

    @extend_schema(
        summary="Get an API token",
        description="A token for `username` and `password`; a login with two-factor sign-in "
        "turned on also sends the current code in `otp`. Staff without two-factor sign-in "
        "get no token while the company requires it (CRM_STAFF_REQUIRE_2FA).",
        responses={
            200: AuthTokenSerializer,
            400: OpenApiResponse(
                description="Wrong username or password; or, for a login with two-factor "
                f"sign-in, no code (“{OTP_MISSING}”) or a wrong one (“{OTP_WRONG}”), named "
                "under `otp`. A wrong code counts as a failed login, as a wrong password does."
            ),
            403: OpenApiResponse(
                description="Staff without two-factor sign-in while the company requires "
                f"it (CRM_STAFF_REQUIRE_2FA): “{TWO_FACTOR_NOT_SET_UP}”"
            ),
            429: OpenApiResponse(
                description="Too many attempts from this address, or too many failed logins "
                "(wrong passwords or codes) for this user from it: wait for the seconds in "
                "Retry-After."
            ),
        },
    )
    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            self._raise_if_locked_out(request)
            raise exceptions.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        try:
            api_token_second_factor(user=user, code=serializer.validated_data.get("otp", ""))
        except WrongCode:
            # A wrong code counts against the same django-axes lockout as a wrong password:
            # the signal Django sends when authenticate() fails, for the login as typed.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": serializer.validated_data["username"]},
                request=request,
            )
            self._raise_if_locked_out(request)
            raise
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @staticmethod
    def _raise_if_locked_out(request) -> None:
        # django-axes marks the request it was given (this DRF request) when it refused
        # the attempt; the serializer alone would say the credentials were wrong.
        if getattr(request, "axes_locked_out", False):
            raise LockedOut(wait=cooloff_seconds(request), detail=lockout_message(request))
