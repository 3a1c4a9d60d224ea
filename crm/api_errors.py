"""The API's one error handler (kept apart from crm.api, which DRF imports while loading)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from customers.errors import ApplicationError


def exception_handler(exc, context):
    """Domain errors become 400/403/409 with the message (and the field when known)."""
    if isinstance(exc, ApplicationError):
        body: dict[str, object] = {"detail": exc.message}
        if exc.field:
            body[exc.field] = [exc.message]
        body.update(exc.extra)  # e.g. the existing customer of a duplicate e-mail
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {
                "detail": exc.messages[0] if exc.messages else "Invalid input.",
                "errors": exc.messages,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)
