"""/api/v1/reviews/: customers review products they bought (as themselves), everyone reads
the approved ones, staff approve or reject."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.permissions import actor_of

from .. import selectors, services
from ..models import Review, ReviewStatus
from .ideas import staff_only


class ReviewSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "customer",
            "author_name",
            "product",
            "rating",
            "body",
            "body_html",
            "status",
            "rejection_reason",
            "moderated_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_author_name(self, review: Review) -> str:
        return str(review.author) if review.author else "A former customer"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated and user.is_staff_member):
            data.pop("customer", None)
        return data


class ReviewCreateSerializer(serializers.Serializer):
    product = serializers.CharField(
        max_length=200, help_text="The product's name as on your purchases."
    )
    rating = serializers.IntegerField(min_value=1, max_value=5)
    body = serializers.CharField(max_length=services.reviews.BODY_MAX)


class ReviewRejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=services.reviews.REASON_MAX)


class ReviewFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(field_name="product", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)

    class Meta:
        model = Review
        fields = ["product", "status"]


@extend_schema_view(
    list=extend_schema(summary="Reviews you can see (approved, plus your own)"),
    retrieve=extend_schema(summary="One review"),
    create=extend_schema(
        summary="Review a product you bought (customers; one review per product)",
        request=ReviewCreateSerializer,
        responses={201: ReviewSerializer},
    ),
)
class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReviewSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = ReviewFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["created_at", "rating", "id"]
    ordering = ["-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.reviews_visible_to(actor_of(self.request)).select_related("author")

    def create(self, request, *args, **kwargs):
        incoming = ReviewCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        review = services.review_write(user=actor_of(request), **incoming.validated_data)
        return Response(self.get_serializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ReviewSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Staff: publish the review (fires the customer's ``review`` loyalty event once)."""
        staff_only(request)
        review = services.review_moderate(
            actor=actor_of(request), review=self.get_object(), approve=True
        )
        return Response(self.get_serializer(review).data)

    @extend_schema(request=ReviewRejectInput, responses={200: ReviewSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Staff: reject with a reason the customer reads."""
        staff_only(request)
        review = self.get_object()
        incoming = ReviewRejectInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        review = services.review_moderate(
            actor=actor_of(request), review=review, approve=False, **incoming.validated_data
        )
        return Response(self.get_serializer(review).data)
