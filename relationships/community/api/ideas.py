"""/api/v1/ideas/ and /api/v1/idea-comments/: thin over the community selectors and services.
Any logged-in user reads what the selectors let them see; customers propose, vote and
comment as themselves (the login is the author, never a field); staff set the status with
a reply and moderate."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import filters, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.errors import NotAllowed
from customers.permissions import actor_of

from .. import selectors, services
from ..models import STAFF_STATUS_CHOICES, Idea, IdeaComment, IdeaStatus, IdeaStatusChange


def staff_only(request) -> None:
    """Refuse a staff action before reading its input: a customer learns nothing from a 400."""
    if not actor_of(request).is_staff_member:
        raise NotAllowed("Only staff can do this.")


def _viewer_is_staff(serializer: serializers.Serializer) -> bool:
    request = serializer.context.get("request")
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff_member)


class StatusChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.__str__", read_only=True)

    class Meta:
        model = IdeaStatusChange
        fields = ["from_status", "to_status", "reply", "reply_html", "changed_by", "created_at"]
        read_only_fields = fields


class IdeaSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()
    my_vote = serializers.BooleanField(read_only=True, default=False)
    status_changes = StatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = Idea
        fields = [
            "id",
            "customer",
            "author_name",
            "title",
            "body",
            "body_html",
            "status",
            "status_changed_at",
            "status_changes",
            "vote_count",
            "comment_count",
            "my_vote",
            "is_hidden",
            "hidden_reason",
            "created_at",
        ]
        read_only_fields = fields

    def get_author_name(self, idea: Idea) -> str:
        return str(idea.author) if idea.author else "A former customer"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _viewer_is_staff(self):  # the CRM record behind an idea is staff's business
            data.pop("customer", None)
        return data


class IdeaCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=services.ideas.TITLE_MAX)
    body = serializers.CharField(max_length=services.ideas.BODY_MAX)


class IdeaStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=STAFF_STATUS_CHOICES)
    reply = serializers.CharField(max_length=services.ideas.REPLY_MAX)


class ModerateInput(serializers.Serializer):
    hidden = serializers.BooleanField()
    reason = serializers.CharField(
        max_length=services.ideas.REASON_MAX,
        required=False,
        allow_blank=True,
        help_text="Required when hiding: the author reads it.",
    )


class IdeaFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=IdeaStatus.choices)
    mine = django_filters.BooleanFilter(method="filter_mine", label="Ideas of my customer record")

    class Meta:
        model = Idea
        fields = ["status", "mine"]

    def filter_mine(self, queryset, name, value):
        user = self.request.user if self.request else None
        if user is None or not user.is_authenticated:
            return queryset.none()
        mine = queryset.filter(customer__user=user)
        return mine if value else queryset.exclude(pk__in=mine.values("pk"))


@extend_schema_view(
    list=extend_schema(summary="Ideas you can see (customers: not hidden, plus their own)"),
    retrieve=extend_schema(summary="One idea, with its status history and replies"),
    create=extend_schema(
        summary="Propose an idea (customers; you are its author)",
        request=IdeaCreateSerializer,
        responses={201: IdeaSerializer},
    ),
)
class IdeaViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = IdeaSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = IdeaFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["vote_count", "created_at", "id"]
    ordering = ["-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Idea.objects.none()
        actor = actor_of(self.request)
        return selectors.with_my_vote(
            selectors.ideas_visible_to(actor).select_related("author"), actor
        ).prefetch_related(
            Prefetch(
                "status_changes", queryset=IdeaStatusChange.objects.select_related("changed_by")
            )
        )

    def create(self, request, *args, **kwargs):
        incoming = IdeaCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        idea = services.idea_propose(user=actor_of(request), **incoming.validated_data)
        return Response(self._fresh(idea), status=status.HTTP_201_CREATED)

    def _fresh(self, idea: Idea) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=idea.pk)).data

    @extend_schema(request=None, responses={201: IdeaSerializer, 200: IdeaSerializer})
    @action(detail=True, methods=["post", "delete"])
    def vote(self, request, pk=None):
        """POST votes (once per login); DELETE takes the vote back."""
        idea = self.get_object()
        if request.method == "DELETE":
            services.idea_unvote(user=actor_of(request), idea=idea)
            return Response(self._fresh(idea))
        services.idea_vote(user=actor_of(request), idea=idea)
        return Response(self._fresh(idea), status=status.HTTP_201_CREATED)

    @extend_schema(request=IdeaStatusInput, responses={200: IdeaSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        """Staff: under_review, planned, shipped or declined, with a reply."""
        staff_only(request)
        idea = self.get_object()
        incoming = IdeaStatusInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.idea_set_status(actor=actor_of(request), idea=idea, **incoming.validated_data)
        return Response(self._fresh(idea))

    @extend_schema(request=ModerateInput, responses={200: IdeaSerializer})
    @action(detail=True, methods=["post"])
    def moderate(self, request, pk=None):
        """Staff: hide the idea (with a reason its author reads) or show it again."""
        staff_only(request)
        idea = self.get_object()
        incoming = ModerateInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.idea_moderate(actor=actor_of(request), idea=idea, **incoming.validated_data)
        return Response(self._fresh(idea))


@extend_schema_field(OpenApiTypes.INT)
class VisibleIdeaField(serializers.PrimaryKeyRelatedField):
    """An idea the caller can see; any other id reads as unknown."""

    default_error_messages = {
        "does_not_exist": "No such idea.",
        "incorrect_type": "An idea id is a whole number.",
    }

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Idea.objects.none()
        return selectors.ideas_visible_to(request.user)


class IdeaCommentSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = IdeaComment
        fields = [
            "id",
            "idea",
            "author_name",
            "is_staff",
            "body",
            "body_html",
            "is_hidden",
            "hidden_reason",
            "created_at",
        ]
        read_only_fields = fields

    def get_author_name(self, comment: IdeaComment) -> str:
        return str(comment.author) if comment.author else "A former user"


class IdeaCommentCreateSerializer(serializers.Serializer):
    idea = VisibleIdeaField()
    body = serializers.CharField(max_length=services.ideas.COMMENT_MAX)


class IdeaCommentFilter(django_filters.FilterSet):
    idea = django_filters.NumberFilter(field_name="idea_id")

    class Meta:
        model = IdeaComment
        fields = ["idea"]


@extend_schema_view(
    list=extend_schema(summary="Comments on the ideas you can see"),
    retrieve=extend_schema(summary="One comment"),
    create=extend_schema(
        summary="Comment on an idea (as yourself: customers as their customer, staff as staff)",
        request=IdeaCommentCreateSerializer,
        responses={201: IdeaCommentSerializer},
    ),
)
class IdeaCommentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = IdeaCommentSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = IdeaCommentFilter
    ordering = ["id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IdeaComment.objects.none()
        return selectors.comments_visible_to(actor_of(self.request)).select_related("author")

    def create(self, request, *args, **kwargs):
        incoming = IdeaCommentCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        comment = services.idea_comment(user=actor_of(request), **incoming.validated_data)
        return Response(IdeaCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ModerateInput, responses={200: IdeaCommentSerializer})
    @action(detail=True, methods=["post"])
    def moderate(self, request, pk=None):
        """Staff: hide the comment (with a reason) or show it again."""
        staff_only(request)
        comment = self.get_object()
        incoming = ModerateInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        comment = services.idea_comment_moderate(
            actor=actor_of(request), comment=comment, **incoming.validated_data
        )
        return Response(IdeaCommentSerializer(comment).data)
