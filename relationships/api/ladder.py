"""The /api/v1/ endpoints for the ladder of loyalty: rule suggestions (list, decide) and
moves by hand. Thin over relationships.selectors (reads, scoped by the caller's book)
and relationships.services (writes)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.api import VisibleCustomerField
from customers.models import Stage, StageChange
from customers.permissions import actor_of

from .. import selectors, services
from ..models import LadderSuggestion


class LadderSuggestionSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = LadderSuggestion
        fields = [
            "id",
            "customer",
            "customer_name",
            "from_stage",
            "to_stage",
            "rule",
            "reason",
            "created_on",
            "status",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "dismiss"])


class LadderSuggestionViewSet(viewsets.ReadOnlyModelViewSet):
    """Rule suggestions on the caller's book (`?status=open` for the ones waiting)."""

    serializer_class = LadderSuggestionSerializer
    filterset_fields = ["status", "customer", "to_stage"]
    ordering_fields = ["id", "created_on"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return LadderSuggestion.objects.none()
        return selectors.suggestions_visible_to(actor_of(self.request)).select_related("customer")

    @extend_schema(request=DecisionSerializer, responses=LadderSuggestionSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        suggestion = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decided = services.ladder_suggestion_decide(
            actor=request.user,
            suggestion=suggestion,
            accept=body.validated_data["decision"] == "accept",
        )
        return Response(self.get_serializer(decided).data)


class StageChangeSerializer(serializers.ModelSerializer):
    customer = VisibleCustomerField()
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(max_length=300)

    class Meta:
        model = StageChange
        fields = [
            "id",
            "customer",
            "from_stage",
            "to_stage",
            "changed_at",
            "changed_by",
            "rule",
            "reason",
        ]
        read_only_fields = ["id", "from_stage", "changed_at", "changed_by", "rule"]


class LadderMoveViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Moves on the ladder of the caller's book (by hand and by accepted rules); POST moves
    a customer by hand: {"customer", "to_stage", "reason"}."""

    serializer_class = StageChangeSerializer
    filterset_fields = ["customer", "to_stage", "from_stage"]
    ordering_fields = ["id", "changed_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return StageChange.objects.none()
        return selectors.stage_changes_visible_to(actor_of(self.request))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        change = services.ladder_move(
            actor=request.user,
            customer=data["customer"],
            to_stage=data["to_stage"],
            reason=data["reason"],
        )
        return Response(self.get_serializer(change).data, status=status.HTTP_201_CREATED)
