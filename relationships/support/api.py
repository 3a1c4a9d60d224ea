"""Support requests in /api/v1/ (crm.api_urls calls ``register(router)``).

- /api/v1/my/support-requests/: the customer of the token, their own requests only
  (another's id is a 404); list, create, retrieve, reply, reopen, rate.
- /api/v1/support-requests/: staff (the default IsStaffMember permission; a customer's
  token gets 403); the queue as the selectors scope it, reply, status, take.
Same services as the pages; files go up as multipart/form-data."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from customers.models import Customer
from customers.permissions import actor_of
from customers.selectors import portal_customer

from . import services
from .models import Category, Status, SupportMessage, SupportRequest
from .portal import serve_attachment
from .selectors import (
    QUEUES,
    SCOPES,
    portal_attachment,
    portal_support_requests,
    staff_attachment,
    support_queue,
    support_requests_visible_to,
)


class MessageSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()
    has_attachment = serializers.SerializerMethodField()

    class Meta:
        model = SupportMessage
        fields = [
            "id",
            "author_name",
            "from_staff",
            "internal",
            "body",
            "has_attachment",
            "attachment_name",
            "attachment_type",
            "attachment_size",
            "created_at",
        ]
        read_only_fields = fields

    def get_author_name(self, message: SupportMessage) -> str:
        if message.from_staff:
            return message.author.get_full_name() or str(message.author)
        return str(message.request.customer)

    def get_has_attachment(self, message: SupportMessage) -> bool:
        return bool(message.attachment)


class RequestSerializer(serializers.ModelSerializer):
    messages = MessageSerializer(many=True, read_only=True)
    kind = serializers.CharField(source="interaction.kind", read_only=True)

    class Meta:
        model = SupportRequest
        fields = [
            "id",
            "category",
            "subject",
            "status",
            "kind",
            "rating",
            "rating_comment",
            "created_at",
            "updated_at",
            "resolved_at",
            "messages",
        ]
        read_only_fields = fields


class StaffRequestSerializer(RequestSerializer):
    root_cause = serializers.IntegerField(
        source="interaction.root_cause_id", read_only=True, allow_null=True
    )

    class Meta(RequestSerializer.Meta):
        fields = [*RequestSerializer.Meta.fields, "customer", "assigned_to", "root_cause"]
        read_only_fields = fields


class OpenInput(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=services.MAX_BODY)
    attachment = serializers.FileField(required=False)


class ReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY)
    attachment = serializers.FileField(required=False)


class StaffReplyInput(ReplyInput):
    internal = serializers.BooleanField(default=False)


class ReopenInput(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, default="")


class RateInput(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)


class IsPortalCustomer(permissions.BasePermission):
    message = "Only customers use these endpoints; staff use /api/v1/support-requests/."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and not user.is_staff_member)


def _with_thread(qs, *, internal: bool):
    messages = SupportMessage.objects.select_related("author", "request__customer")
    if not internal:
        messages = messages.filter(internal=False)
    return qs.prefetch_related(Prefetch("messages", queryset=messages))


PARSERS = [JSONParser, MultiPartParser, FormParser]


@extend_schema(tags=["support"])
class MySupportRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsPortalCustomer]
    serializer_class = RequestSerializer
    parser_classes = PARSERS
    filter_backends: list = []
    limited_actions = ("create",)  # CRM_SUPPORT_OPEN_PER_DAY: 429 with Retry-After

    def customer(self) -> Customer:
        return portal_customer(user=actor_of(self.request))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SupportRequest.objects.none()
        return _with_thread(portal_support_requests(customer=self.customer()), internal=False)

    def _answer(self, req: SupportRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=req.pk)
        return Response(RequestSerializer(fresh).data, status=code)

    @extend_schema(request=OpenInput, responses={201: RequestSerializer})
    def create(self, request: Request) -> Response:
        customer = self.customer()  # a login with no customer record: 404 before input
        data = OpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.support_request_open(
            customer=customer, author=actor_of(request), **data.validated_data
        )
        return self._answer(created, status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        description="Download a file of the thread (as the id in `messages`).",
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<message_pk>[0-9]+)")
    def attachment(self, request: Request, pk=None, message_pk=None) -> FileResponse:
        message = portal_attachment(
            customer=self.customer(), request_pk=_id(pk), pk=_id(message_pk)
        )
        return serve_attachment(message)

    @extend_schema(request=ReplyInput, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk=None) -> Response:
        req = self.get_object()
        data = ReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.support_customer_reply(
            request=req, author=actor_of(request), **data.validated_data
        )
        return self._answer(req)

    @extend_schema(request=ReopenInput, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk=None) -> Response:
        req = self.get_object()
        data = ReopenInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.support_reopen(request=req, author=actor_of(request), **data.validated_data)
        return self._answer(req)

    @extend_schema(request=RateInput, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, pk=None) -> Response:
        req = self.get_object()
        data = RateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.support_rate(request=req, author=actor_of(request), **data.validated_data)
        return self._answer(req)


@extend_schema(tags=["support"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=list(QUEUES), description="The queue's tab (empty: all)."
            ),
            OpenApiParameter("scope", str, enum=list(SCOPES), description="Whose requests."),
        ]
    )
)
class SupportRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The staff queue: ?status=open|waiting|resolved and ?scope=mine|unassigned|all."""

    serializer_class = StaffRequestSerializer
    parser_classes = PARSERS
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SupportRequest.objects.none()
        actor = actor_of(self.request)
        if not actor.is_staff_member:  # the permission class refuses first; belt and braces
            raise PermissionDenied()
        if self.action == "list":
            status_ = self.request.query_params.get("status", "")
            scope = self.request.query_params.get("scope", "all")
            if status_ and status_ not in QUEUES:
                raise serializers.ValidationError(
                    {"status": [f"Choose one of {', '.join(QUEUES)}."]}
                )
            if scope not in SCOPES:
                raise serializers.ValidationError(
                    {"scope": [f"Choose one of {', '.join(SCOPES)}."]}
                )
            qs = support_queue(actor=actor, status=status_, scope=scope)
        else:
            qs = support_requests_visible_to(actor)
        return _with_thread(qs, internal=True)

    def _answer(self, req: SupportRequest) -> Response:
        fresh = _with_thread(support_requests_visible_to(actor_of(self.request)), internal=True)
        return Response(StaffRequestSerializer(fresh.get(pk=req.pk)).data)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        description="Download a file of the thread (internal notes' files included).",
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<message_pk>[0-9]+)")
    def attachment(self, request: Request, pk=None, message_pk=None) -> FileResponse:
        message = staff_attachment(actor=actor_of(request), request_pk=_id(pk), pk=_id(message_pk))
        return serve_attachment(message)

    @extend_schema(request=StaffReplyInput, responses=StaffRequestSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk=None) -> Response:
        req = self.get_object()
        data = StaffReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.support_staff_reply(request=req, actor=actor_of(request), **data.validated_data)
        return self._answer(req)

    @extend_schema(request=StatusInput, responses=StaffRequestSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request: Request, pk=None) -> Response:
        req = self.get_object()
        data = StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.support_status_set(
            request=req, actor=actor_of(request), status=data.validated_data["status"]
        )
        return self._answer(req)

    @extend_schema(request=None, responses=StaffRequestSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk=None) -> Response:
        req = self.get_object()
        services.support_take(request=req, actor=actor_of(request))
        return self._answer(req)


def register(router: BaseRouter) -> None:
    router.register(
        "my/support-requests", MySupportRequestViewSet, basename="api-my-support-request"
    )
    router.register("support-requests", SupportRequestViewSet, basename="api-support-request")


def _id(value: str | None) -> int:
    """An id from the URL; anything but a plain number that fits is no such thing (404)."""
    if not value or not value.isdigit() or len(value) > 18:
        raise NotFound("Not found.")
    return int(value)
