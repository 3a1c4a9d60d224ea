"""The API's one error handler (kept apart from crm.api, which DRF imports while loading)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from customers.errors import ApplicationError, TooMany


def exception_handler(exc, context):
    """Domain errors become 400/403/409/429 with the message (and the field when known)."""
    if isinstance(exc, ApplicationError):
        body: dict[str, object] = {"detail": exc.message}
        if exc.field:
            body[exc.field] = [exc.message]
        body.update(exc.extra)  # e.g. the existing customer of a duplicate e-mail
        response = Response(body, status=exc.status_code)
        if isinstance(exc, TooMany) and exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        return Response(
            {
                "detail": exc.messages[0] if exc.messages else "Invalid input.",
                "errors": exc.messages,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)


# Django's own 404 and 500 (a URL no route matches, such as /api/v1/customers/1.5/, or an
# error outside DRF) answer API callers in the API's error shape, not with an HTML page.
def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
