"""/api/v1/segment-overviews/: each segment with its strategy and the last night's
figures, as the segment pages show them (staff; counts and sums scoped to the caller's
book, retention for admins). Segments are changed through /segments/ and
/relationship-strategies/."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from customers.permissions import IsStaffMember, actor_of

from .. import selectors
from .analytics import RelationshipStrategySerializer


def _row(row: selectors.SegmentFigures) -> dict:
    return {
        "id": row.segment.pk,
        "name": row.segment.name,
        "description": row.segment.description,
        "inactivity_days": row.segment.inactivity_days,
        "strategy": RelationshipStrategySerializer(row.strategy).data if row.strategy else None,
        "yearly_cost_to_serve": row.yearly_cost,
        **selectors.figures_as_dict(row),
    }


class SegmentOverviewViewSet(viewsets.ViewSet):
    permission_classes = [IsStaffMember]
    lookup_value_regex = r"[0-9]+"

    @extend_schema(
        summary="Segments with strategy and figures",
        description="Not paged and not counted: one row per segment, and admins define a handful.",
        operation_id="v1_segment_overviews_list",
        responses={200: {"type": "object"}},  # a list view: the schema makes it an array
    )
    def list(self, request):
        rows = selectors.segment_overview(actor=actor_of(request))
        return Response([_row(r) for r in rows])

    @extend_schema(
        summary="One segment with strategy and figures",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def retrieve(self, request, pk=None):
        return Response(_row(selectors.segment_figures(actor=actor_of(request), pk=pk)))
