"""The /api/v1/follow-ups/ endpoints: add, list, reschedule, reassign (admins) and complete
follow-ups; thin over relationships.selectors and services. A follow-up the caller may not
see is a 404."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from customers.api import PersonSerializer, VisibleCustomerField
from customers.permissions import actor_of

from .. import selectors, services
from ..models import FollowUp


class AssigneeField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": "No active account manager or admin has id {pk_value}.",
        "incorrect_type": "An assignee is a user id, a whole number.",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=selectors.staff_users(), **kwargs)


class FollowUpSerializer(serializers.ModelSerializer):
    assignee = PersonSerializer(read_only=True)
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "customer",
            "due_on",
            "what",
            "assignee",
            "interaction",
            "created_at",
            "is_open",
            "done_at",
            "done_note",
        ]
        read_only_fields = fields

    def get_is_open(self, follow_up: FollowUp) -> bool:
        return follow_up.done_at is None


class FollowUpCreateSerializer(serializers.Serializer):
    customer = VisibleCustomerField()
    due_on = serializers.DateField(help_text="Today or later, up to two years ahead.")
    what = serializers.CharField(max_length=200)
    assignee = AssigneeField(
        required=False,
        allow_null=True,
        help_text="Admins only: an active account manager or admin. Defaults to the "
        "customer's manager.",
    )


class RescheduleSerializer(serializers.Serializer):
    due_on = serializers.DateField(help_text="Today or later, up to two years ahead.")


class ReassignSerializer(serializers.Serializer):
    assignee = AssigneeField(help_text="An active account manager or admin.")


class CompleteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class FollowUpFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    assignee = django_filters.NumberFilter(field_name="assignee_id")
    is_open = django_filters.BooleanFilter(
        field_name="done_at", lookup_expr="isnull", label="Not yet done"
    )
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte")

    class Meta:
        model = FollowUp
        fields = ["customer", "assignee", "is_open", "due_before", "due_after"]


@extend_schema_view(
    list=extend_schema(summary="Follow-ups on your customers and assigned to you"),
    retrieve=extend_schema(summary="One follow-up"),
    create=extend_schema(
        summary="Add a follow-up on its own",
        request=FollowUpCreateSerializer,
        responses={201: FollowUpSerializer},
    ),
)
class FollowUpViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return FollowUp.objects.none()
        return selectors.follow_ups_visible_to(actor_of(self.request)).select_related("assignee")

    def create(self, request, *args, **kwargs):
        incoming = FollowUpCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        follow_up = services.follow_up_add(actor=request.user, **incoming.validated_data)
        return Response(FollowUpSerializer(follow_up).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move it to another day", request=RescheduleSerializer, responses=FollowUpSerializer
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        follow_up = self.get_object()
        incoming = RescheduleSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        done = services.follow_up_reschedule(
            actor=request.user, follow_up=follow_up, due_on=incoming.validated_data["due_on"]
        )
        return Response(FollowUpSerializer(done).data)

    @extend_schema(
        summary="Hand it to someone else (admins)",
        request=ReassignSerializer,
        responses=FollowUpSerializer,
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        if not actor_of(request).is_admin:
            raise PermissionDenied("Only an admin reassigns a follow-up.")
        follow_up = self.get_object()
        incoming = ReassignSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        done = services.follow_up_reassign(
            actor=request.user, follow_up=follow_up, assignee=incoming.validated_data["assignee"]
        )
        return Response(FollowUpSerializer(done).data)

    @extend_schema(
        summary="Mark it done, with an optional note",
        request=CompleteSerializer,
        responses=FollowUpSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        follow_up = self.get_object()
        incoming = CompleteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        done = services.follow_up_complete(
            actor=request.user, follow_up=follow_up, note=incoming.validated_data.get("note", "")
        )
        return Response(FollowUpSerializer(done).data)
