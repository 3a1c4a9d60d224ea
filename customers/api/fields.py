"""Serializer fields other apps' APIs use too (relationships.api imports them)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers

from .. import selectors
from ..dates import storable_moment
from ..models import (
    Customer,
    User,
)

# --- Shared pieces (relationships.api uses them too; apps never import crm) -------------


class AwareDateTimeField(serializers.DateTimeField):
    """A datetime that must say its time zone: guessing one would misplace the event."""

    default_error_messages = {
        "naive": "Include a time zone, e.g. 2026-11-22T09:30:00+01:00.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        try:
            value = storable_moment(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from exc
        return super().enforce_timezone(value)


@extend_schema_field(OpenApiTypes.INT)
class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id the caller may see; any other id reads as unknown (no existence leak)."""

    default_error_messages = {
        "does_not_exist": "No such customer.",
        "incorrect_type": "A customer id is a whole number.",
    }

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Customer.objects.none()
        return selectors.customers_visible_to(request.user)


@extend_schema_field({"type": "string", "format": "email", "nullable": True})
class OptionalEmailField(serializers.EmailField):
    """An e-mail address that may be missing: null, never "" (which is not an address, and
    which the schema's `format: email` refuses)."""

    def to_representation(self, value):
        return value or None


class ManagerField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": "No active account manager has id {pk_value}.",
        "incorrect_type": "An account manager id is a whole number.",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=selectors.account_managers(), **kwargs)


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user: User) -> str:
        return str(user)
