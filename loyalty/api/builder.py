"""The program builder in the API: the recorded configuration changes, scheduling a
change from a date, cancelling one, and a customer's twelve months replayed under a
program's rules. Writes go through the same services as the builder's pages."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from customers.permissions import AdminWritesStaffReads, IsAdminRole, actor_of
from customers.selectors import customers_visible_to

from .. import services
from ..models import ConfigChange, ConfigKind, EarningRule, Offer, Program, Reward, Tier
from ..preview import customer_year_preview
from . import EarningRuleSerializer, ProgramSerializer, RewardSerializer, TierSerializer
from .offers import OfferSerializer

MODELS = {
    ConfigKind.PROGRAM: Program,
    ConfigKind.TIER: Tier,
    ConfigKind.RULE: EarningRule,
    ConfigKind.REWARD: Reward,
    ConfigKind.OFFER: Offer,
}


class ConfigChangeSerializer(serializers.ModelSerializer):
    actor: serializers.StringRelatedField = serializers.StringRelatedField()

    class Meta:
        model = ConfigChange
        fields = [
            "id", "program", "kind", "object_id", "object_name", "created", "before", "after",
            "effective_on", "status", "error", "actor", "created_at", "applied_at",
        ]  # fmt: skip
        read_only_fields = fields


class ScheduleInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ConfigKind.choices)
    object_id = serializers.IntegerField(min_value=1, max_value=2**62)
    changes = serializers.DictField(
        help_text="Fields to change and their new values, as the kind's own endpoint takes them."
    )
    effective_on = serializers.DateField(help_text="Today applies now; a later date waits.")


class ConfigChangeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Recorded configuration changes (staff read); admins schedule and cancel."""

    serializer_class = ConfigChangeSerializer
    permission_classes = [AdminWritesStaffReads]
    filterset_fields = ["program", "kind", "status"]
    queryset = ConfigChange.objects.select_related("actor").order_by("-created_at", "-id")

    @extend_schema(request=ScheduleInput, responses={201: ConfigChangeSerializer})
    def create(self, request: Request) -> Response:
        data = ScheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        kind = data.validated_data["kind"]
        model = MODELS[kind]
        obj = model._default_manager.filter(pk=data.validated_data["object_id"]).first()
        if obj is None:
            raise NotFound(f"No {ConfigKind(kind).label.lower()} with this id.")
        # The kinds' own serializers turn the values into field values.
        serializer_class = {
            ConfigKind.PROGRAM: ProgramSerializer,
            ConfigKind.TIER: TierSerializer,
            ConfigKind.RULE: EarningRuleSerializer,
            ConfigKind.REWARD: RewardSerializer,
            ConfigKind.OFFER: OfferSerializer,
        }[kind]
        values = serializer_class(obj, data=data.validated_data["changes"], partial=True)
        try:
            values.is_valid(raise_exception=True)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"changes": exc.detail}) from exc
        changes = dict(values.validated_data)
        changes.pop("program", None)  # an object stays in its program
        m2m = {
            name: [v.pk for v in changes.pop(name)]
            for name in ("tiers", "eligible_segments")
            if name in changes
        }
        change = services.config_schedule(
            actor=actor_of(request),
            obj=obj,
            changes=changes,
            m2m=m2m or None,
            effective_on=data.validated_data["effective_on"],
        )
        return Response(ConfigChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ConfigChangeSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAdminRole])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        change = self.get_object()
        change = services.config_change_cancel(actor=actor_of(request), change=change)
        return Response(ConfigChangeSerializer(change).data)


class PreviewSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    points = serializers.IntegerField()
    tier = serializers.CharField(allow_null=True)
    purchases = serializers.IntegerField()
    skipped_currency = serializers.IntegerField()
    actual_points = serializers.IntegerField()
    upgrades = serializers.ListField(child=serializers.DictField())
    by_month = serializers.ListField(child=serializers.DictField())


class ProgramPreviewViewSet(viewsets.GenericViewSet):
    """A customer's last twelve months replayed under a program's current rules."""

    permission_classes = [IsAdminRole]
    queryset = Program.objects.all()
    serializer_class = PreviewSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", OpenApiTypes.INT, required=True, description="Customer id")
        ],
        responses={200: PreviewSerializer},
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        program = self.get_object()
        raw = request.query_params.get("customer", "")
        if not raw.isdigit() or len(raw) > 18:
            raise serializers.ValidationError({"customer": ["Give the customer's id."]})
        customer = get_object_or_404(customers_visible_to(actor_of(request)), pk=int(raw))
        preview = customer_year_preview(program=program, customer=customer)
        result = preview["result"]
        body = {
            "customer": customer.pk,
            "start": preview["start"],
            "end": preview["end"],
            "points": result.points,
            "tier": result.tier.name if result.tier else None,
            "purchases": result.purchases,
            "skipped_currency": result.skipped_currency,
            "actual_points": preview["actual_points"],
            "upgrades": [{"on": day, "tier": name} for day, name in result.upgrades],
            "by_month": [{"month": m, "points": p} for m, p in preview["months"]],
        }
        return Response(PreviewSerializer(body).data)


def register(router) -> None:
    router.register("loyalty/changes", ConfigChangeViewSet, basename="api-loyalty-change")
    router.register(
        "loyalty/program-previews", ProgramPreviewViewSet, basename="api-loyalty-preview"
    )
