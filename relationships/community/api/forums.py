"""/api/v1/community/: categories, topics, posts, likes, reports, moderation, bans and
notifications. Thin over the community's selectors (who sees what) and services (who may
do what). Anonymous readers get the public categories; writing needs a login; customers
write as themselves (the author is always the caller)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api import AwareDateTimeField, PersonSerializer
from customers.models import User

from .. import selectors, services
from ..models import (
    BODY_MAX,
    TITLE_MAX,
    Category,
    Notification,
    Post,
    PostingBan,
    PostRevision,
    Topic,
    TopicKind,
)


class ReadAnyoneWriteSignedIn(permissions.BasePermission):
    """Reading is scoped by the selectors (anonymous: public categories); writes need a
    login, and the services decide the rest."""

    message = "Please log in to do this."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)


class IsGlobalModerator(permissions.BasePermission):
    message = "Only an admin or a moderator of every category may do this."

    def has_permission(self, request, view) -> bool:
        return selectors.moderates_everything(request.user)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "access", "position"]
        read_only_fields = fields


class TopicSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)
    category: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True
    )

    class Meta:
        model = Topic
        fields = [
            "id",
            "category",
            "title",
            "kind",
            "author",
            "status",
            "is_pinned",
            "is_locked",
            "accepted_post",
            "reply_count",
            "last_post_number",
            "last_posted_at",
            "created_at",
        ]
        read_only_fields = fields


class TopicCreateSerializer(serializers.Serializer):
    category = serializers.IntegerField(min_value=1, max_value=2**62)
    title = serializers.CharField(max_length=TITLE_MAX)
    body = serializers.CharField(max_length=BODY_MAX)
    kind = serializers.ChoiceField(choices=TopicKind.choices, default=TopicKind.DISCUSSION)


class PostSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)
    is_accepted = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "id",
            "topic",
            "number",
            "author",
            "by_staff",
            "source",
            "html",
            "quoted_post",
            "status",
            "like_count",
            "edit_count",
            "created_at",
            "edited_at",
            "is_accepted",
        ]
        read_only_fields = fields

    def get_is_accepted(self, post: Post) -> bool:
        return post.topic.accepted_post_id == post.pk


class PostCreateSerializer(serializers.Serializer):
    topic = serializers.IntegerField(min_value=1, max_value=2**62)
    body = serializers.CharField(max_length=BODY_MAX)
    quoted_post = serializers.IntegerField(
        min_value=1, max_value=2**62, required=False, allow_null=True
    )


class PostEditSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=BODY_MAX)
    title = serializers.CharField(max_length=TITLE_MAX, required=False)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class TopicModerateSerializer(ReasonSerializer):
    action = serializers.ChoiceField(choices=["lock", "unlock", "pin", "unpin"])


class TopicMoveSerializer(ReasonSerializer):
    category = serializers.IntegerField(min_value=1, max_value=2**62)


class ReadSerializer(serializers.Serializer):
    up_to = serializers.IntegerField(min_value=1, max_value=10**6)


class RevisionSerializer(serializers.ModelSerializer):
    edited_by = PersonSerializer(read_only=True)

    class Meta:
        model = PostRevision
        fields = ["number", "title", "source", "html", "edited_by", "edited_at", "reason"]
        read_only_fields = fields


class ModerationPostSerializer(PostSerializer):
    open_reports = serializers.SerializerMethodField()

    class Meta(PostSerializer.Meta):
        fields = [*PostSerializer.Meta.fields, "open_reports"]
        read_only_fields = fields

    def get_open_reports(self, post: Post) -> list[dict[str, Any]]:
        return [
            {"reporter": str(r.reporter), "reason": r.reason, "created_at": r.created_at}
            for r in getattr(post, "open_reports", [])
        ]


class BanSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)
    banned_by = PersonSerializer(read_only=True)

    class Meta:
        model = PostingBan
        fields = ["id", "user", "reason", "banned_by", "created_at", "ends_at", "lifted_at"]
        read_only_fields = fields


class BanCreateSerializer(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, max_value=2**62)
    reason = serializers.CharField(max_length=500)
    ends_at = AwareDateTimeField(required=False, allow_null=True)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "topic", "post", "text", "created_at", "read_at"]
        read_only_fields = fields


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _category(actor: selectors.Actor, pk: int) -> Category:
    category = selectors.categories_visible_to(actor).filter(pk=pk).first()
    if category is None:
        raise serializers.ValidationError({"category": ["There is no such category."]})
    return category


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CategorySerializer
    permission_classes = [ReadAnyoneWriteSignedIn]
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.categories_visible_to(self.request.user)


class TopicViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TopicSerializer
    permission_classes = [ReadAnyoneWriteSignedIn]
    filterset_fields = ["category", "kind"]
    search_fields = ["title"]
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Topic]:
        return selectors.topics_visible_to(self.request.user).select_related("author")

    def get_object(self) -> Topic:
        return selectors.topic_get(actor=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=TopicCreateSerializer, responses={201: TopicSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = _valid(TopicCreateSerializer, request)
        topic = services.topic_create(
            actor=request.user,
            category=_category(request.user, data["category"]),
            title=data["title"],
            body=data["body"],
            kind=data["kind"],
        )
        return Response(TopicSerializer(topic).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TopicModerateSerializer, responses=TopicSerializer)
    @action(detail=True, methods=["post"])
    def moderate(self, request: Request, pk=None) -> Response:
        data = _valid(TopicModerateSerializer, request)
        topic = services.topic_moderate(
            actor=request.user,
            topic=self.get_object(),
            action=data["action"],
            reason=data["reason"],
        )
        return Response(TopicSerializer(topic).data)

    @extend_schema(request=TopicMoveSerializer, responses=TopicSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk=None) -> Response:
        data = _valid(TopicMoveSerializer, request)
        topic = services.topic_move(
            actor=request.user,
            topic=self.get_object(),
            category=_category(request.user, data["category"]),
            reason=data["reason"],
        )
        return Response(TopicSerializer(topic).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post", "delete"])
    def subscription(self, request: Request, pk=None) -> Response:
        topic = self.get_object()
        if request.method == "DELETE":
            services.topic_unsubscribe(actor=request.user, topic=topic)
        else:
            services.topic_subscribe(actor=request.user, topic=topic)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ReadSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk=None) -> Response:
        data = _valid(ReadSerializer, request)
        services.topic_mark_read(actor=request.user, topic=self.get_object(), up_to=data["up_to"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=TopicSerializer)
    @action(detail=True, methods=["delete"], url_path="accepted-answer")
    def accepted_answer(self, request: Request, pk=None) -> Response:
        topic = services.answer_unaccept(actor=request.user, topic=self.get_object())
        return Response(TopicSerializer(topic).data)


class PostViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PostSerializer
    permission_classes = [ReadAnyoneWriteSignedIn]
    filterset_fields = ["topic"]
    search_fields: list[str] = []
    ordering = ("id",)  # reading order: ids grow with the reply numbers
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Post]:
        return selectors.posts_visible_to(self.request.user).select_related("author", "topic")

    def get_object(self) -> Post:
        return selectors.post_get(actor=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=PostCreateSerializer, responses={201: PostSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = _valid(PostCreateSerializer, request)
        try:
            topic = selectors.topic_get(actor=request.user, pk=data["topic"])
        except Http404 as exc:
            raise serializers.ValidationError({"topic": ["There is no such topic."]}) from exc
        quoted = None
        if data.get("quoted_post"):
            quoted = selectors.posts_visible_to(request.user).filter(pk=data["quoted_post"]).first()
            if quoted is None:
                raise serializers.ValidationError({"quoted_post": ["There is no such post."]})
        post = services.post_create(
            actor=request.user, topic=topic, body=data["body"], quoted_post=quoted
        )
        return Response(PostSerializer(post).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PostEditSerializer, responses=PostSerializer)
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        data = _valid(PostEditSerializer, request)
        post = services.post_edit(
            actor=request.user,
            post=self.get_object(),
            body=data["body"],
            title=data.get("title"),
            reason=data["reason"],
        )
        return Response(PostSerializer(post).data)

    @extend_schema(responses=RevisionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def revisions(self, request: Request, pk=None) -> Response:
        post = self.get_object()
        rows = selectors.post_revisions(actor=request.user, post=post)
        return Response(RevisionSerializer(rows, many=True).data)

    @extend_schema(request=None, responses=PostSerializer)
    @action(detail=True, methods=["post", "delete"])
    def like(self, request: Request, pk=None) -> Response:
        """A vote: one per person and post (POST likes, DELETE takes it back)."""
        post = self.get_object()
        if request.method == "DELETE":
            post = services.post_unlike(actor=request.user, post=post)
        else:
            post = services.post_like(actor=request.user, post=post)
        return Response(PostSerializer(post).data)

    @extend_schema(request=None, responses=TopicSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk=None) -> Response:
        topic = services.answer_accept(actor=request.user, post=self.get_object())
        return Response(TopicSerializer(topic).data)

    @extend_schema(request=ReasonSerializer, responses={201: None})
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk=None) -> Response:
        data = _valid(ReasonSerializer, request)
        services.post_report(actor=request.user, post=self.get_object(), reason=data["reason"])
        return Response(status=status.HTTP_201_CREATED)

    def _moderate(self, request: Request, use_case) -> Response:
        data = _valid(ReasonSerializer, request)
        post = use_case(actor=request.user, post=self.get_object(), reason=data["reason"])
        post.refresh_from_db()
        return Response(PostSerializer(post).data)

    @extend_schema(request=ReasonSerializer, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def hide(self, request: Request, pk=None) -> Response:
        return self._moderate(request, services.post_hide)

    @extend_schema(request=ReasonSerializer, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk=None) -> Response:
        return self._moderate(request, services.post_restore)

    @extend_schema(request=ReasonSerializer, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk=None) -> Response:
        return self._moderate(request, services.post_reject)

    @extend_schema(request=None, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk=None) -> Response:
        post = services.post_approve(actor=request.user, post=self.get_object())
        return Response(PostSerializer(post).data)

    @extend_schema(request=ReasonSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="dismiss-reports")
    def dismiss_reports(self, request: Request, pk=None) -> Response:
        data = _valid(ReasonSerializer, request)
        services.reports_dismiss(actor=request.user, post=self.get_object(), reason=data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModerationQueueViewSet(viewsets.ViewSet):
    """Held posts and reported posts in the categories the caller moderates."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=ModerationPostSerializer(many=True),
        description="Held posts and reported posts in the categories the caller moderates, "
        "oldest first. Not paged and not counted: the 200 oldest waiting posts; once handled, "
        "the next ones appear.",
    )
    def list(self, request: Request) -> Response:
        if not selectors.is_moderator(request.user):
            return Response(
                {"detail": "Only moderators see the moderation queue."},
                status=status.HTTP_403_FORBIDDEN,
            )
        posts = selectors.moderation_queue(actor=request.user)
        return Response(ModerationPostSerializer(posts, many=True).data)


class BanViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Posting bans in force; admins and global moderators ban and lift."""

    serializer_class = BanSerializer
    permission_classes = [permissions.IsAuthenticated, IsGlobalModerator]
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[PostingBan]:
        return selectors.bans_in_force()

    @extend_schema(request=BanCreateSerializer, responses={201: BanSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = _valid(BanCreateSerializer, request)
        user = User.objects.filter(pk=data["user"]).first()
        if user is None:
            raise serializers.ValidationError({"user": ["There is no such person."]})
        ban = services.user_ban(
            actor=request.user, user=user, reason=data["reason"], ends_at=data.get("ends_at")
        )
        return Response(BanSerializer(ban).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses=BanSerializer)
    @action(detail=True, methods=["post"])
    def lift(self, request: Request, pk=None) -> Response:
        ban = self.get_object()
        data = _valid(ReasonSerializer, request)
        ban = services.ban_lift(actor=request.user, ban=ban, reason=data["reason"])
        return Response(BanSerializer(ban).data)


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.filter(recipient_id=self.request.user.pk)

    @extend_schema(request=None, responses={204: None})
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request: Request) -> Response:
        services.notifications_mark_read(actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
