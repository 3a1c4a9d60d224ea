"""The /api/v1/ endpoints for the defection and complaint report and corrective plans.
Reads through relationships.selectors (scoped by the caller's book), writes through
relationships.services. Admins write plans; staff read them; an action's owner marks it done."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.permissions import AdminWritesStaffReads, actor_of

from .. import selectors, services
from ..models import CorrectiveAction, CorrectivePlan, DefectionReason, PlanStatus


class DefectionReportViewSet(viewsets.ViewSet):
    """Defection reasons and complaint root causes per month (last 12), per reason (with
    the number of corrective plans on it) and per segment. The customers behind a number:
    /api/v1/defections/?reason__code=<code>, /api/v1/interactions/?kind=complaint&root_cause=<code>
    (or &unclassified=true)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def list(self, request):
        data = selectors.defection_report(actor=request.user)

        def grid(rows):
            return [
                {"month": r["month"].isoformat(), "counts": r["counts"], "total": r["total"]}
                for r in rows
            ]

        return Response(
            {
                "start": data["start"].isoformat(),
                "end": data["end"].isoformat(),
                "defection_reasons": data["defection_reasons"],
                "defection_reason_codes": data["defection_reason_codes"],
                "defections_by_month": grid(data["defections_by_month"]),
                "complaint_causes": data["complaint_causes"],
                # "" for the complaints with no root cause ("Not classified").
                "complaint_cause_codes": data["complaint_cause_codes"],
                "complaints_by_month": grid(data["complaints_by_month"]),
                "reasons": data["reasons"],
                "segments": data["segments"],
            }
        )


class CorrectiveActionSerializer(serializers.ModelSerializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=CorrectivePlan.objects.all())
    owner = serializers.PrimaryKeyRelatedField(queryset=selectors.staff_users())

    class Meta:
        model = CorrectiveAction
        fields = ["id", "plan", "description", "owner", "due_on", "status", "done_at"]
        read_only_fields = ["id", "status", "done_at"]


class CorrectivePlanSerializer(serializers.ModelSerializer):
    causes = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=DefectionReason.objects.all()
    )
    owner = serializers.PrimaryKeyRelatedField(queryset=selectors.staff_users())
    recovery_team = serializers.PrimaryKeyRelatedField(
        many=True, queryset=selectors.staff_users(), required=False
    )
    status = serializers.ChoiceField(choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    actions = CorrectiveActionSerializer(many=True, read_only=True)

    class Meta:
        model = CorrectivePlan
        fields = [
            "id",
            "title",
            "description",
            "causes",
            "owner",
            "recovery_team",
            "status",
            "started_on",
            "created_by",
            "created_at",
            "actions",
        ]
        read_only_fields = ["id", "created_by", "created_at", "actions"]


class CorrectivePlanViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Corrective plans; `GET /plans/<id>/effect/` gives the before/after defection rate."""

    serializer_class = CorrectivePlanSerializer
    permission_classes = [AdminWritesStaffReads]
    filterset_fields = ["status", "owner"]
    ordering_fields = ["id", "created_at", "started_on"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return CorrectivePlan.objects.none()
        return selectors.plans_visible_to(actor_of(self.request)).prefetch_related(
            "recovery_team", "actions"
        )

    def _save(self, data: dict, plan=None):
        return services.plan_save(
            actor=actor_of(self.request),
            plan=plan,
            title=data["title"],
            description=data.get("description", ""),
            causes=list(data["causes"]),
            owner=data["owner"],
            recovery_team=list(data.get("recovery_team", [])),
            status=data.get("status", PlanStatus.DRAFT),
            started_on=data.get("started_on"),
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = self._save(serializer.validated_data)
        return Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        merged = {
            "title": instance.title,
            "description": instance.description,
            "causes": list(instance.causes.all()),
            "owner": instance.owner,
            "recovery_team": list(instance.recovery_team.all()),
            "status": instance.status,
            "started_on": instance.started_on,
            **serializer.validated_data,
        }
        plan = self._save(merged, plan=instance)
        return Response(
            self.get_serializer(selectors.plan_get(actor=request.user, pk=plan.pk)).data
        )

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def effect(self, request, pk=None):
        plan = self.get_object()
        effect = selectors.plan_effect(actor=request.user, plan=plan)
        body: dict[str, Any] = {
            "sentence": selectors.effect_sentence(effect),
            "before": None,
            "after": None,
            "months": [],
        }
        if effect:
            body.update(
                before=effect["before"],
                after=effect["after"],
                pivot=effect["pivot"].isoformat(),
                months=[{**r, "month": r["month"].isoformat()} for r in effect["months"]],
            )
        return Response(body)


class StaffMarksDone(permissions.BasePermission):
    """Admins write; staff read and POST `done` (the service lets only the owner through)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff_member):
            return False
        return request.method in permissions.SAFE_METHODS or user.is_admin or view.action == "done"


class CorrectiveActionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CorrectiveActionSerializer
    permission_classes = [StaffMarksDone]
    filterset_fields = ["plan", "owner", "status"]
    ordering_fields = ["id", "due_on"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return CorrectiveAction.objects.none()
        return selectors.actions_visible_to(actor_of(self.request))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = services.action_add(
            actor=request.user,
            plan=data["plan"],
            description=data["description"],
            owner=data["owner"],
            due_on=data.get("due_on"),
        )
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CorrectiveActionSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        marked = services.action_mark_done(actor=request.user, action=self.get_object())
        return Response(self.get_serializer(marked).data)
