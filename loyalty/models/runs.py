"""The loyalty nightly run record."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class RunStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped (already done or running)"
    FAILED = "failed", "Failed"


class LoyaltyRun(models.Model):
    """One nightly step for one date. A succeeded (step, date) is never run again."""

    step = models.CharField(max_length=30)
    run_date = models.DateField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.BigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=RunStatus.choices)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["step", "run_date"],
                condition=Q(status="succeeded"),
                name="loyaltyrun_once_per_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.step} {self.run_date}: {self.status}"
