"""/api/v1/risk-flags/: the caller's flags, the at-risk queue (`?open=true`, in the page's
order, paged by a keyset cursor) and `POST .../{id}/handle/`.

Thin: reads through relationships.selectors (a flag outside the caller's book is a 404),
the handling through relationships.services (the same rules and words as the page)."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

from customers.permissions import actor_of

from .. import selectors, services
from ..models import HANDLED_NOTE_MAX, RiskFlag
from .analytics import BoolParam

BAD_CURSOR = "Invalid cursor: use the next/previous links as given."


class RiskFlagSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    handled = serializers.BooleanField(
        read_only=True,
        help_text="Marked handled and not re-raised since: the queue lists it after the "
        "unhandled flags.",
    )
    handled_by_name = serializers.CharField(
        source="handled_by", read_only=True, default=None, allow_null=True
    )
    reraised_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The night that found the customer still at risk after the flag was "
        "handled; the handling (handled_at, handled_by, handled_note) is kept so it can be "
        "quoted, and the flag is back among the unhandled ones.",
    )
    contacted_today = serializers.BooleanField(
        read_only=True,
        help_text="Staff logged an interaction with the customer since local midnight (or "
        "since the last nightly run's data, when that is older). Live, not from the run.",
    )
    bought_today = serializers.BooleanField(
        read_only=True,
        help_text="The customer bought since local midnight (or since the last nightly "
        "run's data, when that is older). Live, not from the run.",
    )

    class Meta:
        model = RiskFlag
        fields = [
            "id",
            "customer",
            "customer_name",
            "account_manager",
            "raised_on",
            "cleared_on",
            "is_open",
            "score",
            "reasons",
            "value_at_risk",
            "handled",
            "handled_at",
            "handled_by",
            "handled_by_name",
            "handled_note",
            "reraised_on",
            "contacted_today",
            "bought_today",
        ]
        read_only_fields = fields


class HandleSerializer(serializers.Serializer):
    # Shape only: required, trimmed, at most HANDLED_NOTE_MAX and free of NUL is the
    # service's rule (clean_handled_note), with the same words as the page's form.
    note = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"What was done and what comes next; up to {HANDLED_NOTE_MAX} characters.",
    )


def _encode(position: selectors.QueuePosition) -> str:
    raw = json.dumps(
        [position.handled, str(position.value_at_risk), position.score, position.id]
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> selectors.QueuePosition:
    try:
        handled, value, score, pk = json.loads(
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        )
        if not (
            isinstance(handled, bool)
            and isinstance(value, str)
            and type(score) is int
            and type(pk) is int
        ):
            raise ValueError(token)
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(token)
        return selectors.QueuePosition(handled, amount, score, pk)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, InvalidOperation) as exc:
        raise ValidationError({"cursor": [BAD_CURSOR]}) from exc


class RiskQueuePagination(BasePagination):
    """The at-risk queue's keyset (selectors.risk_queue_page) when the view lists the queue
    in its own order; the API's usual cursor pagination otherwise. DRF's CursorPagination
    keys on the first ordering column only (here a boolean) and skips ties by OFFSET, which
    would read most of the queue for a page deep in it; the keyset walk stays on the index.
    The queue walks forward: `previous` is null."""

    def __init__(self) -> None:
        # The API's own pagination (crm.api, named in settings: relationships may not
        # import crm).
        # Typed loosely: count() and count_fields() are crm.api's, not DRF's.
        self._default: Any = cast("type[CursorPagination]", api_settings.DEFAULT_PAGINATION_CLASS)()
        self._queue = False
        self._next: str | None = None
        self._total = 0

    def paginate_queryset(self, queryset, request, view=None):
        self._queue = bool(view is not None and view.lists_queue())
        if not self._queue:
            return self._default.paginate_queryset(queryset, request, view)
        size = self._default.get_page_size(request) or api_settings.PAGE_SIZE or 50
        token = request.query_params.get("cursor")
        after = _decode(token) if token else None
        rows = selectors.risk_queue_page(queryset, after=after, limit=size + 1)
        page = rows[:size]
        # Counted as the API's other lists count (crm.api.CursorPagination), up to its cap.
        self._total = (
            len(rows) if after is None and len(rows) <= size else self._default.count(queryset)
        )
        self._next = None
        if len(rows) > size:
            url = request.build_absolute_uri()
            self._next = replace_query_param(
                url, "cursor", _encode(selectors.QueuePosition.of(page[-1]))
            )
        return page

    def get_paginated_response(self, data):
        if not self._queue:
            return self._default.get_paginated_response(data)
        counted = self._default.count_fields(self._total)
        return Response({**counted, "next": self._next, "previous": None, "results": data})

    def get_paginated_response_schema(self, schema):
        return self._default.get_paginated_response_schema(schema)

    def get_schema_operation_parameters(self, view):
        return self._default.get_schema_operation_parameters(view)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "open",
                bool,
                description="true: the at-risk queue (open flags, unhandled first, then the "
                "most value at risk, unless `ordering` is given); false: cleared flags only.",
            )
        ]
    )
)
class RiskFlagViewSet(viewsets.ReadOnlyModelViewSet):
    """Flags on the caller's book. `?open=true` is the at-risk queue, in the page's order
    unless `ordering` is given: unhandled flags first, then the most value at risk.
    Each flag says whether the customer was contacted or bought since the night's data.
    `POST /{id}/handle/` with {"note": ...} marks an open flag handled."""

    serializer_class = RiskFlagSerializer
    pagination_class = RiskQueuePagination
    search_fields = ["customer__name"]
    ordering_fields = ["id", "raised_on", "score", "value_at_risk"]

    def _open_param(self) -> bool | None:
        return BoolParam.parse(self.request.query_params.get("open"), "open")

    def lists_queue(self) -> bool:
        return (
            self.action == "list"
            and self._open_param() is True
            and not self.request.query_params.get(api_settings.ORDERING_PARAM)
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return RiskFlag.objects.none()
        actor = actor_of(self.request)
        if self.lists_queue():
            return selectors.at_risk_queue(actor=actor)
        qs = selectors.with_live_signals(
            selectors.risk_flags_visible_to(actor).select_related("customer", "handled_by"),
            selectors.live_since(),
        )
        is_open = self._open_param()
        if is_open is not None:
            qs = qs.filter(cleared_on__isnull=is_open)
        return qs

    @extend_schema(request=HandleSerializer, responses=RiskFlagSerializer)
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        """Mark an open flag handled with a note (the customer's account manager or an
        admin): it moves below the unhandled flags until a night finds the customer still
        at risk. Handling again replaces the note; a cleared flag is a 409."""
        flag = self.get_object()
        body = HandleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.risk_flag_handle(
            actor=actor_of(request), flag=flag, note=body.validated_data["note"]
        )
        fresh = selectors.risk_flag_get(actor=actor_of(request), pk=flag.pk)
        return Response(self.get_serializer(fresh).data)
