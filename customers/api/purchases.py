"""Purchases and account-manager assignments."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.response import Response

from .. import selectors, services
from ..filters import IsoDateTimeFilter
from ..models import (
    AccountManagerAssignment,
    Purchase,
)
from ..permissions import actor_of
from .fields import AwareDateTimeField, PersonSerializer, VisibleCustomerField

# --- Purchases ---------------------------------------------------------------------------


class PurchaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Purchase
        fields = [
            "id",
            "customer",
            "reference",
            "amount",
            "currency",
            "occurred_at",
            "product",
            "category",
            "created_at",
        ]
        read_only_fields = fields


class PurchaseCreateSerializer(serializers.Serializer):
    customer = VisibleCustomerField()
    reference = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        default="EUR",
        error_messages={"invalid": "The currency must be a three-letter ISO code."},
    )
    occurred_at = AwareDateTimeField()
    product = serializers.CharField(max_length=200, required=False, allow_blank=True)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def validate_occurred_at(self, value: dt.datetime) -> dt.datetime:
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise serializers.ValidationError("A purchase cannot happen in the future.")
        return value


class PurchaseFilter(django_filters.FilterSet):
    # A number, not a model choice: an id outside your book filters to nothing, it does
    # not say "exists but not yours".
    customer = django_filters.NumberFilter(field_name="customer_id")
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    category = django_filters.CharFilter(field_name="category", lookup_expr="iexact")

    class Meta:
        model = Purchase
        fields = ["customer", "occurred_after", "occurred_before", "category"]


@extend_schema_view(
    list=extend_schema(summary="Purchases of the customers you can see"),
    retrieve=extend_schema(summary="One purchase"),
    create=extend_schema(
        summary="Record a purchase",
        request=PurchaseCreateSerializer,
        responses={201: PurchaseSerializer, 409: OpenApiTypes.OBJECT},
    ),
)
class PurchaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PurchaseSerializer
    filterset_class = PurchaseFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["occurred_at"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Purchase.objects.none()
        return selectors.purchases_visible_to(actor_of(self.request))

    def create(self, request, *args, **kwargs):
        incoming = PurchaseCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        purchase = services.purchase_record(actor=request.user, **incoming.validated_data)
        return Response(PurchaseSerializer(purchase).data, status=status.HTTP_201_CREATED)


# --- Assignments -------------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    account_manager = PersonSerializer(read_only=True, allow_null=True)
    changed_by = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AccountManagerAssignment
        fields = [
            "id",
            "customer",
            "account_manager",
            "started_at",
            "ended_at",
            "reason",
            "changed_by",
        ]
        read_only_fields = fields


class AssignmentFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = AccountManagerAssignment
        fields = ["customer"]


@extend_schema_view(
    list=extend_schema(
        summary="Who managed whom, and why it changed",
        parameters=[OpenApiParameter("customer", int, description="Only this customer.")],
    ),
    retrieve=extend_schema(summary="One assignment"),
)
class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]
    ordering = ["-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return AccountManagerAssignment.objects.none()
        return selectors.assignments_visible_to(actor_of(self.request))
