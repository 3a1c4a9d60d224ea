"""The viewset admins configure loyalty through (programs, tiers, rules, rewards, offers)."""

from django.db import transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from rest_framework import viewsets

from customers.errors import Conflict, NotAllowed
from customers.permissions import AdminWritesStaffReads, actor_of

from .. import services


class ConfigViewSet(viewsets.ModelViewSet):
    """Admins write through services.config_save (model validation, contradictions refused);
    other staff read."""

    permission_classes = [AdminWritesStaffReads]
    m2m_fields: tuple[str, ...] = ()

    def _save(self, serializer, obj):
        data = dict(serializer.validated_data)
        m2m = {name: data.pop(name) for name in self.m2m_fields if name in data}
        for key, value in data.items():
            setattr(obj, key, value)
        serializer.instance = services.config_save(actor=actor_of(self.request), obj=obj, m2m=m2m)

    def perform_create(self, serializer):
        self._save(serializer, self.get_queryset().model())

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        if not actor_of(self.request).is_admin:
            raise NotAllowed("Only an admin can configure loyalty programs.")
        try:
            with transaction.atomic():
                instance.delete()
        except (ProtectedError, RestrictedError) as exc:
            raise Conflict(
                f"{instance} is in use (members, entries or redemptions) and cannot be deleted."
            ) from exc
