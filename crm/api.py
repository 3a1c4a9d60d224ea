"""API plumbing shared by every app: the cursor pagination, which answers a bad cursor with
a 400. The permission is customers.permissions.IsStaffMember, the error handler
crm.api_errors."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
    invalid_cursor_message = "Invalid cursor: use the next/previous links as given."

    def decode_cursor(self, request):
        # DRF answers a mangled cursor with 404; it is bad input, so 400 with the field.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({"cursor": [self.invalid_cursor_message]}) from exc

    def paginate_queryset(self, queryset, request, view=None):
        # A well-encoded cursor can still carry a position that is not a valid value of
        # the ordering field (hand-made, or from another ordering): bad input, not a 500.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
            raise exceptions.ValidationError({"cursor": [self.invalid_cursor_message]}) from exc
