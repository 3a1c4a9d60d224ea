"""The /api/v1/ endpoints for retention analytics: metrics, snapshots,
model fits, nightly runs, relationship strategies and defections.

Thin: reads go through relationships.selectors (scoped: a row outside the caller's
book is a 404), writes through relationships.services.
"""

from __future__ import annotations

from django.db.models import F, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from customers.api import VisibleCustomerField
from customers.models import Segment, User
from customers.permissions import AdminWritesStaffReads, IsAdminRole, actor_of

from .. import selectors, services
from ..models import (
    CustomerMetrics,
    Defection,
    DefectionReason,
    ModelFit,
    NightlyRun,
    PurchaseRhythm,
    RelationshipGoal,
    RelationshipStrategy,
    RelationshipType,
    RetentionSnapshot,
)


class BoolParam:
    TRUE = {"1", "true", "yes"}
    FALSE = {"0", "false", "no"}

    @classmethod
    def parse(cls, value: str | None, name: str) -> bool | None:
        if value is None or value == "":
            return None
        low = value.lower()
        if low in cls.TRUE:
            return True
        if low in cls.FALSE:
            return False
        raise serializers.ValidationError({name: [f"Use true or false, not {value!r}."]})


# --- Metrics -----------------------------------------------------------


class CustomerMetricsSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    value_tier = serializers.CharField(read_only=True)

    class Meta:
        model = CustomerMetrics
        fields = [
            "id",
            "customer",
            "customer_name",
            "computed_for",
            "first_purchase_at",
            "last_purchase_at",
            "purchase_count",
            "revenue",
            "usual_gap_days",
            "days_since_last_purchase",
            "complaints_30d",
            "last_manager_contact_at",
            "p_alive",
            "expected_purchases_30d",
            "expected_purchases_90d",
            "expected_purchases_365d",
            "clv_12m",
            "value_at_risk",
            "financial_value",
            "strategic_value",
            "financial_band",
            "strategic_band",
            "value_tier",
            "risk_score",
            "reasons",
        ]
        read_only_fields = fields


class CustomerMetricsViewSet(viewsets.ReadOnlyModelViewSet):
    """Each visible customer's current numbers; `?customer=<id>` for one customer."""

    serializer_class = CustomerMetricsSerializer
    filterset_fields = ["customer", "financial_band", "strategic_band"]
    search_fields = ["customer__name"]
    ordering_fields = ["id", "risk_score", "value_at_risk", "clv_12m"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return CustomerMetrics.objects.none()
        return selectors.metrics_visible_to(actor_of(self.request)).select_related("customer")


# --- Retention, model fits, runs ---------------------------------------------------------


class RetentionSnapshotSerializer(serializers.ModelSerializer):
    complete = serializers.BooleanField(
        source="is_complete",
        read_only=True,
        help_text="False for the period still running at the run: its figures cover only "
        "the days so far (the run of the 3rd knows two days of the month).",
    )

    class Meta:
        model = RetentionSnapshot
        fields = [
            "id",
            "run_date",
            "period_kind",
            "period_start",
            "period_end",
            "cut_kind",
            "cut_key",
            "cut_label",
            "at_start",
            "retained",
            "new",
            "lost",
            "retention_rate",
            "churn_rate",
            "lifetime_periods",
            "revenue_retention",
            "complete",
        ]
        read_only_fields = fields


RANGE_PARAMS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="Periods ending on or after it."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Periods starting on or before it."),
    OpenApiParameter(
        "complete", OpenApiTypes.BOOL, description="Only complete (or only running) periods."
    ),
]


@extend_schema_view(list=extend_schema(parameters=RANGE_PARAMS))
class RetentionSnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    """Retention per period and cut. Admins see every cut; an account manager sees the
    figures of their own book (the account-manager cut with their id).

    `?period_kind=quarter&from=2025-01-01&to=2025-12-31` picks the kind and the periods
    overlapping a range; `?complete=true` leaves out the period still running at each run.
    The customers behind a figure: `/api/v1/customers/?retention=lost&period=quarter&
    period_start=<period_start>` (and `&cut=<cut_kind>:<cut_key>` for a cut)."""

    serializer_class = RetentionSnapshotSerializer
    filterset_fields = ["run_date", "period_kind", "cut_kind", "cut_key", "period_start"]
    ordering_fields = ["id", "period_start"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RetentionSnapshot.objects.none()
        params = self.request.query_params
        chosen = selectors.retention_range(
            period_kind=params.get("period_kind"),
            date_from=params.get("from"),
            date_to=params.get("to"),
            fields=("period_kind", "from", "to"),
        )
        qs = selectors.retention_snapshots_visible_to(actor_of(self.request))
        if params.get("period_kind"):
            qs = qs.filter(period_kind=chosen.period_kind)
        if chosen.date_from:
            qs = qs.filter(period_end__gte=chosen.date_from)
        if chosen.date_to:
            qs = qs.filter(period_start__lte=chosen.date_to)
        complete = BoolParam.parse(params.get("complete"), "complete")
        if complete is not None:
            running = Q(period_end__gte=F("run_date"))
            qs = qs.exclude(running) if complete else qs.filter(running)
        return qs


class ModelFitSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelFit
        fields = [
            "id",
            "run_date",
            "n_customers",
            "bgnbd_r",
            "bgnbd_alpha",
            "bgnbd_a",
            "bgnbd_b",
            "gg_p",
            "gg_q",
            "gg_v",
            "holdout_days",
            "holdout_mae",
            "bgnbd_log_likelihood",
            "bgnbd_converged",
            "gg_n_customers",
            "gg_log_likelihood",
            "gg_converged",
            "penalizer",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class ModelFitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ModelFitSerializer
    queryset = ModelFit.objects.all()
    filterset_fields = ["run_date"]


class NightlyRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = NightlyRun
        fields = [
            "id",
            "run_date",
            "started_at",
            "finished_at",
            "status",
            "mode",
            "mode_reason",
            "rows",
            "durations",
            "error",
        ]
        read_only_fields = fields


class NightlyRunViewSet(viewsets.ReadOnlyModelViewSet):
    """The history of nightly runs (admins only)."""

    serializer_class = NightlyRunSerializer
    queryset = NightlyRun.objects.all()
    permission_classes = [IsAdminRole]
    filterset_fields = ["status", "run_date"]


# --- Relationship strategies -------------------------------------------------------------


class RelationshipStrategySerializer(serializers.ModelSerializer):
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all())
    segment_name = serializers.CharField(source="segment.name", read_only=True)
    relationship_types = serializers.ListField(
        child=serializers.ChoiceField(choices=RelationshipType.choices), allow_empty=False
    )
    goal = serializers.ChoiceField(choices=RelationshipGoal.choices)
    rhythm = serializers.ChoiceField(
        choices=PurchaseRhythm.choices, default=PurchaseRhythm.MARRIAGE
    )

    class Meta:
        model = RelationshipStrategy
        fields = [
            "id",
            "segment",
            "segment_name",
            "relationship_types",
            "goal",
            "rhythm",
            "expected_gap_days",
            "cost_to_serve_per_year",
            "currency",
            "notes",
            "switching_costs",
            "updated_at",
        ]
        read_only_fields = ["id", "segment_name", "updated_at"]


class RelationshipStrategyViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Per segment: which relationships, what for, what they cost. Staff read, admins write."""

    serializer_class = RelationshipStrategySerializer
    permission_classes = [AdminWritesStaffReads]
    filterset_fields = ["goal", "rhythm", "segment"]

    def get_queryset(self):
        return selectors.strategies()

    def _save(self, data: dict, segment) -> Response:
        # The pages' service: the change is recorded, and the answer says whether the
        # next night is full because of it.
        saved = services.segment_strategy_save(
            actor=actor_of(self.request),
            segment=segment,
            relationship_types=data["relationship_types"],
            goal=data["goal"],
            rhythm=data.get("rhythm", PurchaseRhythm.MARRIAGE),
            expected_gap_days=data.get("expected_gap_days"),
            cost_to_serve_per_year=data.get("cost_to_serve_per_year", 0),
            currency=data.get("currency", "EUR"),
            notes=data.get("notes", ""),
            switching_costs=data.get("switching_costs", ""),
        )
        body = {
            **self.get_serializer(saved.strategy).data,
            "full_night": saved.full_night,
            "full_night_recomputes": list(services.FULL_NIGHT_RECOMPUTES)
            if saved.full_night
            else [],
        }
        return Response(body)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        segment = serializer.validated_data["segment"]
        if RelationshipStrategy.objects.filter(segment=segment).exists():
            return Response(
                {
                    "detail": f"{segment} already has a strategy; change it with PUT.",
                    "segment": ["Taken."],
                },
                status=status.HTTP_409_CONFLICT,
            )
        answer = self._save(serializer.validated_data, segment)
        answer.status_code = status.HTTP_201_CREATED
        return answer

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        merged = {
            "relationship_types": instance.relationship_types,
            "goal": instance.goal,
            "rhythm": instance.rhythm,
            "expected_gap_days": instance.expected_gap_days,
            "cost_to_serve_per_year": instance.cost_to_serve_per_year,
            "currency": instance.currency,
            "notes": instance.notes,
            "switching_costs": instance.switching_costs,
            **serializer.validated_data,
        }
        merged.pop("segment", None)  # a strategy stays with its segment
        return self._save(merged, instance.segment)


# --- Defections --------------------------------------------------------------------------


class DefectionReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = DefectionReason
        fields = ["id", "code", "name", "description", "is_active"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        description="The reasons a defection can be recorded with. Not paged and not "
        "counted: a short list admins keep."
    )
)
class DefectionReasonViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DefectionReasonSerializer
    queryset = DefectionReason.objects.all()
    pagination_class = None


class DefectionSerializer(serializers.ModelSerializer):
    customer = VisibleCustomerField()
    reason = serializers.SlugRelatedField(
        slug_field="code",
        queryset=DefectionReason.objects.filter(is_active=True),
        help_text="Why the customer left: a code from /api/v1/defection-reasons/.",
        error_messages={
            "required": "Say why the customer left: a code from /api/v1/defection-reasons/.",
            "null": "Say why the customer left: a code from /api/v1/defection-reasons/.",
            "does_not_exist": "There is no active defection reason {value!r}; the codes "
            "are listed at /api/v1/defection-reasons/.",
        },
    )
    recorded_by: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )

    class Meta:
        model = Defection
        fields = [
            "id",
            "customer",
            "reason",
            "defected_on",
            "exit_interview_notes",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["id", "recorded_by", "created_at"]
        extra_kwargs = {"defected_on": {"required": False}}


class DefectionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Who left and why, on the caller's book. POST marks a customer defected (the one way
    to: a customer's status alone cannot be set to defected): the reason is required, the
    exit-interview notes optional, the customer's status follows in the same transaction."""

    serializer_class = DefectionSerializer
    filterset_fields = {
        "customer": ["exact"],
        "reason__code": ["exact"],
        "defected_on": ["gte", "lte"],
    }
    ordering_fields = ["id", "defected_on"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Defection.objects.none()
        return selectors.defections_visible_to(actor_of(self.request)).select_related("reason")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        defection = services.defection_record(
            actor=request.user,
            customer=data["customer"],
            reason=data["reason"],
            defected_on=data.get("defected_on"),
            exit_interview_notes=data.get("exit_interview_notes", ""),
        )
        return Response(self.get_serializer(defection).data, status=status.HTTP_201_CREATED)
