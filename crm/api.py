"""API plumbing shared by every app: the cursor pagination (a bad cursor is a 400, every
page says how many rows match, counted up to a cap), and the guard that answers a query
parameter the schema does not document with a 400 naming it. The permission is
customers.permissions.IsStaffMember, the error handler crm.api_errors, the schema's
shared parts crm.api_schema."""

from __future__ import annotations

import functools
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.settings import api_settings

# A list answers with its total up to this many rows; past it, `count` stops at the cap and
# `count_capped` is true (the staff customer list counts the same way): a COUNT over
# millions of rows on every page would cost more than the page.
COUNT_CAP = 10_000


def capped_count(queryset, cap: int = COUNT_CAP) -> int:
    """COUNT over a LIMITed subquery: exact up to the cap, cheap past it."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def count_fields(total: int, cap: int = COUNT_CAP) -> dict:
    return {"count": min(total, cap), "count_capped": total > cap}


def count_schema(cap: int = COUNT_CAP) -> dict:
    return {
        "count": {
            "type": "integer",
            "minimum": 0,
            "maximum": cap,
            "description": f"How many rows match the filters, counted up to {cap:,}.",
        },
        "count_capped": {
            "type": "boolean",
            "description": f"More than {cap:,} rows match: `count` stops at the cap.",
        },
    }


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
    count_cap = COUNT_CAP
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
            page = super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
            raise exceptions.ValidationError({"cursor": [self.invalid_cursor_message]}) from exc
        if page is None:  # no page size: DRF does not paginate
            return None
        if self.cursor is None and not self.has_next:
            self.total = len(page)  # the first page is the whole answer: no COUNT needed
        else:
            self.total = self.count(queryset)
        return page

    # Apps' own paginators (relationships' risk queue) count through these, since no app
    # may import crm: they reach this class through api_settings.DEFAULT_PAGINATION_CLASS.
    def count(self, queryset) -> int:
        return capped_count(queryset, self.count_cap)

    def count_fields(self, total: int) -> dict:
        return count_fields(total, self.count_cap)

    def get_paginated_response(self, data):
        return Response(
            {
                **self.count_fields(self.total),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        paged = super().get_paginated_response_schema(schema)
        paged["properties"] = {**count_schema(self.count_cap), **paged["properties"]}
        paged["required"] = ["count", "count_capped", "next", "previous", "results"]
        return paged


# --- Query parameters the schema does not document -----------------------------------

# Taken by every endpoint: DRF's format override (?format=json, ?format=api).
ALWAYS_ALLOWED = frozenset({api_settings.URL_FORMAT_OVERRIDE or "format"})


@functools.cache
def documented_query_parameters() -> tuple[tuple[re.Pattern[str], dict[str, frozenset[str]]], ...]:
    """For each path of the served schema, a pattern and the query parameters each method
    documents; literal paths first, so /staff/reassign-book/ wins over /staff/{id}/.
    The schema describes code, not data: built once per process, on the first API call."""
    from drf_spectacular.generators import SchemaGenerator  # the generator imports the urls

    schema = SchemaGenerator().get_schema(request=None, public=True)
    table = []
    for path, operations in schema["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
        methods = {
            method.upper(): frozenset(
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            )
            for method, operation in operations.items()
            if isinstance(operation, dict)
        }
        table.append((path.count("{"), pattern, methods))
    table.sort(key=lambda row: row[0])
    return tuple((pattern, methods) for _, pattern, methods in table)


def allowed_query_parameters(path: str, method: str) -> frozenset[str] | None:
    """The query parameters the schema documents for this call; None when the schema does
    not describe it (OPTIONS, an undocumented path), which is left alone."""
    method = "GET" if method == "HEAD" else method
    for pattern, methods in documented_query_parameters():
        if pattern.match(path):
            return methods.get(method)
    return None


def reject_undocumented_query_parameters(request) -> None:
    """A filter the API does not know must not be ignored (`?customer=` on a list that
    cannot filter by customer would return everything): answer 400 naming it."""
    allowed = allowed_query_parameters(request.path_info, request.method)
    if allowed is None:
        return
    unknown = sorted(set(request.query_params) - allowed - ALWAYS_ALLOWED)
    if not unknown:
        return
    known = ", ".join(sorted(allowed)) or "none"
    detail = (
        f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
        f"This endpoint takes: {known}."
    )
    raise exceptions.ValidationError(
        {"detail": detail, **{name: ["Unknown query parameter."] for name in unknown}}
    )
