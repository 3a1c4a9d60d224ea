"""Configuration changes: every change an admin makes to a program, its tiers, rules and
rewards, or to an offer, as before/after, with who made it and from when it applies. A
change dated in the future waits here (scheduled) until the nightly run applies it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .programs import Program


class ConfigKind(models.TextChoices):
    PROGRAM = "program", "Program"
    TIER = "tier", "Tier"
    RULE = "rule", "Earning rule"
    REWARD = "reward", "Reward"
    OFFER = "offer", "Offer"


class ChangeStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    APPLIED = "applied", "Applied"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Could not be applied"


class ConfigChange(models.Model):
    # Offers belong to no program: their changes have none.
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, null=True, blank=True, related_name="changes"
    )
    kind = models.CharField(max_length=20, choices=ConfigKind.choices)
    object_id = models.PositiveBigIntegerField()
    object_name = models.CharField(max_length=200)
    created = models.BooleanField(default=False, help_text="The change created the object.")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    effective_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.APPLIED
    )
    error = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["program", "-created_at"], name="loyalty_change_program"),
            models.Index(
                fields=["effective_on"],
                condition=Q(status="scheduled"),
                name="loyalty_change_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "applied", "cancelled", "failed"]),
                name="loyalty_change_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.object_name} ({self.get_status_display()})"

    @property
    def fields_changed(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field that differs."""
        names = list(self.after) if self.created else sorted(set(self.before) | set(self.after))
        return [
            (name, self.before.get(name), self.after.get(name))
            for name in names
            if self.created or self.before.get(name) != self.after.get(name)
        ]
