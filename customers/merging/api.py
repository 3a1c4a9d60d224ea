"""/api/v1/customer-merges/: admins merge two customers and read past merges.

POST {"survivor": id, "absorbed": id} merges (201 with the record); GET
preview/?survivor=&absorbed= says what would move without writing. Thin: the services in
customers.merging decide and refuse (403 for non-admins, 409 on a clash)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..models import Customer, CustomerMerge
from ..permissions import IsAdminRole
from .services import customer_merge, customer_merge_preview


class CustomerMergeSerializer(serializers.ModelSerializer):
    merged_by: serializers.StringRelatedField = serializers.StringRelatedField()

    class Meta:
        model = CustomerMerge
        fields = [
            "id",
            "survivor",
            "survivor_name",
            "absorbed_id",
            "absorbed_name",
            "absorbed_email",
            "merged_by",
            "merged_at",
            "moved",
            "notes",
        ]
        read_only_fields = fields


class MergeRequestSerializer(serializers.Serializer):
    survivor = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), help_text="The customer that stays."
    )
    absorbed = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(),
        help_text="The customer whose rows move to the survivor; deleted afterwards.",
    )


PreviewSerializer = inline_serializer(
    "CustomerMergePreview",
    fields={
        "survivor": serializers.IntegerField(),
        "absorbed": serializers.IntegerField(),
        "moves": serializers.ListField(child=serializers.DictField()),
        "fills": serializers.DictField(child=serializers.CharField()),
        "problems": serializers.ListField(child=serializers.CharField()),
    },
)


class CustomerMergeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = CustomerMergeSerializer
    permission_classes = [IsAdminRole]
    queryset = CustomerMerge.objects.select_related("merged_by")

    @extend_schema(request=MergeRequestSerializer, responses={201: CustomerMergeSerializer})
    def create(self, request, *args, **kwargs):
        incoming = MergeRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        record = customer_merge(actor=request.user, **incoming.validated_data)
        return Response(CustomerMergeSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("survivor", OpenApiTypes.INT, required=True),
            OpenApiParameter("absorbed", OpenApiTypes.INT, required=True),
        ],
        responses={200: PreviewSerializer},
    )
    @action(detail=False, methods=["get"])
    def preview(self, request):
        incoming = MergeRequestSerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        preview = customer_merge_preview(actor=request.user, **incoming.validated_data)
        return Response(
            {
                "survivor": preview.survivor.pk,
                "absorbed": preview.absorbed.pk,
                "moves": [
                    {"kind": label, "survivor": kept, "absorbed": gone}
                    for label, kept, gone in preview.rows
                ],
                "fills": dict(preview.fills),
                "problems": preview.problems,
            }
        )


def register(router) -> None:
    router.register("customer-merges", CustomerMergeViewSet, basename="api-customer-merge")
