"""Customers and segments."""

from __future__ import annotations

import datetime as dt
import functools

import django_filters
from django.db.models import DateField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import access, selectors, services
from ..filters import CustomerFilter, ExtensionParam, list_extension_params
from ..models import (
    Customer,
    CustomerKind,
    CustomerStatus,
    Segment,
    Stage,
    Tag,
)
from ..permissions import AdminWritesStaffReads, IsAdminRole, actor_of
from ..web import site_base_url
from .fields import ManagerField, OptionalEmailField, PersonSerializer

# --- Customers ---------------------------------------------------------------------------


class CustomerSerializer(serializers.ModelSerializer):
    account_manager = PersonSerializer(read_only=True, allow_null=True)
    segment_name = serializers.CharField(source="segment.name", read_only=True, default=None)
    email = OptionalEmailField(read_only=True)
    # Typed as its child field, as the stubs type every many=True field.
    tags: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name"
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "kind",
            "name",
            "email",
            "phone",
            "company",
            "address",
            "external_id",
            "segment",
            "segment_name",
            "stage",
            "status",
            "acquired_on",
            "account_manager",
            "tags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerUpdateSerializer(serializers.Serializer):
    """Fields staff may change on a customer. The manager changes only through reassign."""

    kind = serializers.ChoiceField(choices=CustomerKind.choices, required=False)
    name = serializers.CharField(max_length=200, required=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="The customer's id in another system; unique when set (409 if taken).",
    )
    segment = serializers.PrimaryKeyRelatedField(
        queryset=Segment.objects.all(), required=False, allow_null=True
    )
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    status = serializers.ChoiceField(
        choices=CustomerStatus.choices,
        required=False,
        help_text="A customer becomes defected only through POST /api/v1/defections/, "
        "which records why; setting it here is refused.",
    )
    acquired_on = serializers.DateField(required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50
    )

    def validate_acquired_on(self, value: dt.date | None) -> dt.date | None:
        if value is not None and value > timezone.localdate():
            raise serializers.ValidationError("A customer cannot be acquired in the future.")
        return value


class CustomerCreateSerializer(CustomerUpdateSerializer):
    name = serializers.CharField(max_length=200)
    account_manager = ManagerField(
        required=False,
        allow_null=True,
        help_text="Admins only; an account manager's new customers go into their own book.",
    )
    allow_duplicate_email = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A customer with the same e-mail already exists: the create answers 409 "
        "with `existing_customer` (their id, or null outside your book) unless this is true.",
    )


class CustomerReassignSerializer(serializers.Serializer):
    account_manager = ManagerField(
        allow_null=True, help_text="Null leaves the customer unassigned."
    )
    reason = serializers.CharField(max_length=300)


class CustomerApiFilter(CustomerFilter):
    """The shared customer filters, told who asks (the manager filter is admin-only)."""

    def __init__(self, *args, request=None, **kwargs):
        kwargs.setdefault("actor", getattr(request, "user", None))
        super().__init__(*args, request=request, **kwargs)


class CustomerFilterBackend(django_filters.rest_framework.DjangoFilterBackend):
    """The filter backend of the customer list, whose filterset also lists the parameters
    other apps register at start (relationships: ?retention=&period=&period_start=&cut=):
    CustomerFilter adds them per instance, the schema reads the class, and a parameter the
    schema does not list is refused (crm.api)."""

    def get_filterset_class(self, view, queryset=None):
        return _with_extension_params(super().get_filterset_class(view, queryset))


@functools.cache
def _with_extension_params(filterset_class):
    extra = {
        name: ExtensionParam(field_name=name, label=name)
        for name in list_extension_params()
        if name not in filterset_class.base_filters
    }
    if not extra:
        return filterset_class
    return type(filterset_class.__name__, (filterset_class,), extra)


class CustomerOrdering(filters.OrderingFilter):
    """Orderings with a tie-breaker, and acquired_on read through a never-null key,
    because a cursor cannot point at a null position."""

    aliases = {"acquired_on": "acquired_key"}

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view) or ["name"]
        mapped = []
        for term in ordering:
            desc = term.startswith("-")
            field = self.aliases.get(term.lstrip("-"), term.lstrip("-"))
            mapped.append(f"-{field}" if desc else field)
        if mapped[0].lstrip("-") != "id":
            mapped.append("-id" if mapped[0].startswith("-") else "id")
        return mapped


@extend_schema_view(
    list=extend_schema(summary="Customers in your book (admins: everyone)"),
    retrieve=extend_schema(summary="One customer"),
    create=extend_schema(
        summary="Add a customer", request=CustomerCreateSerializer, responses=CustomerSerializer
    ),
    partial_update=extend_schema(
        summary="Change a customer", request=CustomerUpdateSerializer, responses=CustomerSerializer
    ),
)
class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CustomerSerializer
    filterset_class = CustomerApiFilter
    filter_backends = [CustomerFilterBackend, filters.SearchFilter, CustomerOrdering]
    search_fields = ["name", "email", "company"]
    ordering_fields = ["name", "acquired_on", "created_at", "id"]
    ordering = ["name"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Customer.objects.none()
        return (
            selectors.customers_visible_to(actor_of(self.request))
            .select_related("segment", "account_manager")
            .prefetch_related("tags")
            .annotate(
                acquired_key=Coalesce("acquired_on", Value(dt.date.min), output_field=DateField())
            )
        )

    def create(self, request, *args, **kwargs):
        incoming = CustomerCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, **incoming.validated_data)
        return Response(self._out(customer.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        if "account_manager" in request.data:
            # Silently ignoring it would let a client believe the customer changed hands.
            raise serializers.ValidationError(
                {"account_manager": ["Change the account manager with POST .../reassign/."]}
            )
        incoming = CustomerUpdateSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        services.customer_update(actor=request.user, customer=customer, **incoming.validated_data)
        return Response(self._out(customer.pk))

    @extend_schema(
        summary="Hand the customer to another account manager (admins)",
        request=CustomerReassignSerializer,
        responses=CustomerSerializer,
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAdminRole])
    def reassign(self, request, pk=None):
        customer = self.get_object()
        incoming = CustomerReassignSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.customer_reassign(actor=request.user, customer=customer, **incoming.validated_data)
        return Response(self._out(customer.pk))

    @extend_schema(
        summary="Invite the customer to the portal: a login linked to the record, and a mail "
        "with a link to choose a password (or that mail again while no password is chosen)",
        request=None,
        responses={200: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"], url_path="portal-invite")
    def portal_invite(self, request, pk=None):
        customer = self.get_object()
        invitation = access.customer_portal_invite(
            actor=actor_of(request), customer=customer, base_url=site_base_url(request)
        )
        return Response(
            {
                "customer": customer.pk,
                "username": invitation.user.username,
                "email": invitation.user.email,
                "mailed": invitation.mailed,
                "again": invitation.again,
            }
        )

    def _out(self, pk: int) -> dict:
        # Read back through the selector so the answer shows what is stored (tags included).
        return CustomerSerializer(self.get_queryset().get(pk=pk)).data


# --- Segments ----------------------------------------------------------------------------


class SegmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100)
    inactivity_days = serializers.IntegerField(
        min_value=1,
        max_value=36500,
        required=False,
        help_text="A customer with no purchase for this many days no longer counts as retained.",
    )

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "inactivity_days", "created_at"]
        read_only_fields = ["id", "created_at"]


@extend_schema_view(
    list=extend_schema(summary="Customer segments"),
    create=extend_schema(summary="Define a segment (admins)"),
    partial_update=extend_schema(summary="Change a segment (admins)"),
    destroy=extend_schema(
        summary="Delete a segment that no customer is in (admins)",
        responses={204: None, 409: OpenApiTypes.OBJECT},
    ),
)
class SegmentViewSet(viewsets.ModelViewSet):
    serializer_class = SegmentSerializer
    permission_classes = [AdminWritesStaffReads]
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.segments()

    def perform_create(self, serializer):
        serializer.instance = services.segment_create(
            actor=actor_of(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.segment_update(
            actor=actor_of(self.request), segment=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.segment_delete(actor=actor_of(self.request), segment=instance)
