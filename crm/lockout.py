"""What a locked-out login hears, on the login page and the API token endpoint alike."""

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timesince


def cooloff_seconds(request: HttpRequest | None = None) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def cooloff_words(request: HttpRequest | None = None) -> str:
    """'15 minutes' (axes hands templates an ISO 8601 duration, 'PT15M')."""
    cool_off = get_cool_off(request)
    if not cool_off:
        return "a while"
    now = timezone.now()
    return timesince(now - cool_off, now).replace("\xa0", " ")


def lockout_message(request: HttpRequest | None = None) -> str:
    return (
        "Too many failed logins: logging in as this user from this address is paused for "
        f"{cooloff_words(request)}. Try again later, or ask an administrator to reset "
        "your password."
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the lockout page, 429 with Retry-After."""
    response = render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        {"cooloff": cooloff_words(request)},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    seconds = cooloff_seconds(request)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def login_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """AXES_USERNAME_CALLABLE: who a sign-in attempt is for. allauth authenticates with
    `username` or `email` (from its `login` field), the API token endpoint with `username`;
    lower-cased so "Alice" and "alice" share one count."""
    credentials = credentials or {}
    data = getattr(request, "data", None) or request.POST
    typed = (
        credentials.get("username")
        or credentials.get("email")
        or data.get("login")
        or data.get("username")
        or ""
    )
    return str(typed).strip().lower()
