"""The loyalty builder's forecast in the API: a program's expected points per month from
the nightly figures (relationships.selectors.points_forecast)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from customers.permissions import IsAdminRole
from loyalty.models import Program

from ..selectors.points_forecast import expected_points_by_month


class ForecastMonthSerializer(serializers.Serializer):
    month = serializers.IntegerField(help_text="1 is the 30 days from today.")
    ends = serializers.DateField()
    points = serializers.IntegerField()
    liability = serializers.IntegerField(help_text="Today's balance plus points to date.")


class PointsForecastSerializer(serializers.Serializer):
    program = serializers.IntegerField()
    members = serializers.IntegerField()
    with_figures = serializers.IntegerField()
    balance = serializers.IntegerField()
    pending = serializers.IntegerField()
    months = ForecastMonthSerializer(many=True)


class PointsForecastViewSet(viewsets.GenericViewSet):
    """Expected points per month for a program's members (admins)."""

    permission_classes = [IsAdminRole]
    queryset = Program.objects.all()
    serializer_class = PointsForecastSerializer

    @extend_schema(responses={200: PointsForecastSerializer})
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        program = self.get_object()
        forecast = expected_points_by_month(program=program, today=timezone.localdate())
        return Response(PointsForecastSerializer({"program": program.pk, **forecast}).data)
