"""Staff accounts (admins)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import selectors, services
from ..models import (
    User,
)
from ..permissions import IsAdminRole, actor_of
from ..web import site_base_url
from .fields import ManagerField, OptionalEmailField

# --- Staff accounts (admins) -------------------------------------------------------------


class StaffSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    email = OptionalEmailField(read_only=True)
    state = serializers.SerializerMethodField()
    book_size = serializers.IntegerField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "name", "role", "state", "book_size", "last_login"]
        read_only_fields = fields

    def get_state(self, user: User) -> str:
        return selectors.staff_state(user)


class StaffInviteSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=150)
    role = serializers.ChoiceField(choices=list(services.STAFF_ROLES))
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class BookReassignSerializer(serializers.Serializer):
    from_manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        error_messages={"does_not_exist": "No user has id {pk_value}."},
    )
    to_manager = ManagerField()
    reason = serializers.CharField(max_length=300)


@extend_schema_view(
    list=extend_schema(summary="Staff accounts with book sizes and last sign-in (admins)"),
    retrieve=extend_schema(summary="One staff account (admins)"),
    create=extend_schema(
        summary="Invite staff by e-mail (admins): an inactive account and a set-password link",
        request=StaffInviteSerializer,
        responses={201: StaffSerializer, 409: OpenApiTypes.OBJECT},
    ),
)
class StaffViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = StaffSerializer
    permission_classes = [IsAdminRole]

    def get_queryset(self):
        return selectors.staff_members()

    def _out(self, user: User, **extra) -> dict:
        return {**StaffSerializer(self.get_queryset().get(pk=user.pk)).data, **extra}

    def create(self, request, *args, **kwargs):
        incoming = StaffInviteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        invitation = services.staff_invite(
            actor=actor_of(request), base_url=site_base_url(request), **incoming.validated_data
        )
        body = self._out(invitation.user, mailed=invitation.mailed)
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Deactivate a staff account or withdraw an invitation (admins)",
        request=None,
        responses={200: StaffSerializer, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        services.staff_deactivate(actor=actor_of(request), user=self.get_object())
        return Response(self._out(self.get_object()))

    @extend_schema(summary="Mail an open invitation again (admins)", request=None)
    @action(detail=True, methods=["post"], url_path="send-invitation")
    def send_invitation(self, request, pk=None):
        user = self.get_object()
        mailed = services.staff_invite_resend(
            actor=actor_of(request), user=user, base_url=site_base_url(request)
        )
        return Response(self._out(user, mailed=mailed))

    @extend_schema(
        summary="Hand every customer of one manager to another (admins)",
        request=BookReassignSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["post"], url_path="reassign-book")
    def reassign_book(self, request):
        incoming = BookReassignSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        moved = services.book_reassign(actor=actor_of(request), **incoming.validated_data)
        return Response({"moved": moved})
