"""Input no field of this app can hold, refused once for every page and API endpoint; and\nstaff sent to set up two-factor sign-in when the company requires it."""

import json
from collections.abc import Callable, Iterator
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.utils.functional import SimpleLazyObject

from crm.client_address import client_address

NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    """The JSON paths (customer, causes.0, ...) of keys and strings that hold a NUL."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield child
            yield from _nul_paths(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{index}" if path else str(index))


def nul_field(request: HttpRequest) -> str | None:
    """The first request parameter holding a NUL character, by name, or None.

    PostgreSQL text cannot hold NUL, so such a value reaching a query or a row is a
    database error (a 500), whichever field, filter or lookup carries it."""
    if NUL in request.path:
        return "path"
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in v for v in values):
            return name
    content_type = request.content_type or ""
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.POST.lists():
            if NUL in name or any(NUL in v for v in values):
                return name
    elif content_type.endswith("json") and b"\\u0000" in request.body:
        try:
            data = json.loads(request.body)
        except ValueError:
            return None  # the parser answers malformed JSON itself
        for path in _nul_paths(data, ""):
            return path.split(".")[0] or "body"
    return None


class RejectNulMiddleware:
    """A NUL anywhere in the address, the query or the submitted fields: 400 naming the
    field (as JSON for the API), before any view or query sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = nul_field(request)
        if field is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": f"{field}: {NUL_MESSAGE}", field: [NUL_MESSAGE]}, status=400
            )
        return HttpResponseBadRequest(
            f"The field “{field}” contains a null character, which is not allowed.",
            content_type="text/plain; charset=utf-8",
        )


class StaffTwoFactorMiddleware:
    """With CRM_STAFF_REQUIRE_2FA on, a signed-in admin or account manager who has not set
    up two-factor sign-in reaches only the account pages (/accounts/: set it up, sign out)
    until they have; every other page sends them to the authenticator set-up. Customers
    are never asked. API calls with a token are the API's business (docs/portal.md)."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/favicon.ico")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": TWO_FACTOR_MESSAGE}, status=403)
            messages.info(request, TWO_FACTOR_MESSAGE)
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _must_set_up(self, request: HttpRequest) -> bool:
        if not settings.CRM_STAFF_REQUIRE_2FA:
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff_member:
            return False
        if request.path.startswith(self.ALLOWED_PREFIXES):
            return False
        return not is_mfa_enabled(user)


TWO_FACTOR_MESSAGE = "Staff sign in with two factors here: set up an authenticator app to continue."


class AuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with two changes. The actor is read when the first log
    entry is written, not when the request arrives: an API call with a token is
    authenticated by DRF inside the view (which then sets request.user), so it would
    otherwise be logged as nobody. The address is the one crm.client_address trusts, not
    the client's own X-Forwarded-For claim."""

    @staticmethod
    def _get_actor(request: HttpRequest) -> Any:
        return SimpleLazyObject(lambda: AuditlogMiddleware._get_actor(request))

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_address(request)
