"""The /api/v1/interactions/ endpoints: thin over relationships.selectors and services."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.api import AwareDateTimeField, PersonSerializer, VisibleCustomerField
from customers.errors import ValidationFailed
from customers.permissions import actor_of

from .. import selectors, services
from ..models import Channel, DefectionReason, Interaction, InteractionKind, Sentiment


class RootCauseField(serializers.SlugRelatedField):
    """A cause by its code, from the active defection-reason taxonomy."""

    default_error_messages = {
        "does_not_exist": "There is no active root cause {value!r}; the codes are listed at "
        "/api/v1/defection-reasons/.",
        "invalid": "A root cause is a reason code, e.g. price.",
    }

    def __init__(self, **kwargs):
        super().__init__(
            slug_field="code", queryset=DefectionReason.objects.filter(is_active=True), **kwargs
        )


class InteractionSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)
    follow_up_on = serializers.DateField(
        source="follow_up.due_on",
        read_only=True,
        default=None,
        help_text="When its follow-up is due now (it may have been rescheduled).",
    )
    follow_up_done_at = serializers.DateTimeField(
        source="follow_up.done_at", read_only=True, default=None
    )
    follow_up_id = serializers.IntegerField(source="follow_up.id", read_only=True, default=None)
    follow_up_open = serializers.BooleanField(read_only=True)
    root_cause: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    root_cause_name = serializers.CharField(source="root_cause.name", read_only=True, default=None)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "author",
            "channel",
            "kind",
            "occurred_at",
            "subject",
            "notes",
            "sentiment",
            "follow_up_on",
            "follow_up_done_at",
            "follow_up_open",
            "follow_up_id",
            "root_cause",
            "root_cause_name",
            "created_at",
        ]
        read_only_fields = fields


class InteractionCreateSerializer(serializers.Serializer):
    customer = VisibleCustomerField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    kind = serializers.ChoiceField(choices=InteractionKind.choices)
    subject = serializers.CharField(max_length=200)
    notes = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    occurred_at = AwareDateTimeField(required=False, help_text="Defaults to now.")
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, required=False)
    follow_up_on = serializers.DateField(required=False, allow_null=True)
    root_cause = RootCauseField(
        required=False,
        allow_null=True,
        help_text="Required for kind complaint, and only for it: a code from "
        "/api/v1/defection-reasons/.",
    )

    def validate_occurred_at(self, value: dt.datetime) -> dt.datetime:
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise serializers.ValidationError("An interaction cannot happen in the future.")
        return value


class RootCauseSetSerializer(serializers.Serializer):
    root_cause = RootCauseField(help_text="A code from /api/v1/defection-reasons/.")


class InteractionFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    kind = django_filters.ChoiceFilter(choices=InteractionKind.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    follow_up_open = django_filters.BooleanFilter(
        method="filter_follow_up_open", label="Has a follow-up not yet done"
    )
    root_cause = django_filters.CharFilter(
        field_name="root_cause__code", label="Root cause code (complaints)"
    )
    unclassified = django_filters.BooleanFilter(
        field_name="root_cause", lookup_expr="isnull", label="Has no root cause"
    )

    class Meta:
        model = Interaction
        fields = ["customer", "kind", "channel", "follow_up_open", "root_cause", "unclassified"]

    def filter_follow_up_open(self, queryset, name, value):
        open_ = {"follow_up__isnull": False, "follow_up__done_at__isnull": True}
        return queryset.filter(**open_) if value else queryset.exclude(**open_)


@extend_schema_view(
    list=extend_schema(summary="Interactions with the customers you can see"),
    retrieve=extend_schema(summary="One interaction"),
    create=extend_schema(
        summary="Log an interaction (you are its author)",
        request=InteractionCreateSerializer,
        responses={201: InteractionSerializer},
    ),
)
class InteractionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["occurred_at", "id"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Interaction.objects.none()
        return selectors.interactions_visible_to(actor_of(self.request)).select_related(
            "author", "root_cause", "follow_up"
        )

    def create(self, request, *args, **kwargs):
        incoming = InteractionCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        interaction = services.interaction_log(author=request.user, **incoming.validated_data)
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark the interaction's follow-up as done (see also /api/v1/follow-ups/)",
        request=None,
        responses=InteractionSerializer,
    )
    @action(detail=True, methods=["post"], url_path="complete-follow-up")
    def complete_follow_up(self, request, pk=None):
        interaction = self.get_object()
        follow_up = interaction.follow_up_or_none
        if follow_up is None:
            raise ValidationFailed("This interaction has no follow-up.")
        services.follow_up_complete(actor=request.user, follow_up=follow_up)
        return Response(InteractionSerializer(self.get_object()).data)

    @extend_schema(
        summary="Classify a complaint: set (or change) its root cause",
        request=RootCauseSetSerializer,
        responses=InteractionSerializer,
    )
    @action(detail=True, methods=["post"], url_path="root-cause")
    def root_cause(self, request, pk=None):
        interaction = self.get_object()
        incoming = RootCauseSetSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        done = services.complaint_root_cause_set(
            actor=request.user,
            interaction=interaction,
            root_cause=incoming.validated_data["root_cause"],
        )
        return Response(InteractionSerializer(done).data)
