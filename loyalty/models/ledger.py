"""The points ledger: append-only entries, lots consumed oldest first."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Purchase

from .earning import EarningRule
from .programs import Membership


class EntryKind(models.TextChoices):
    EARN = "earn", "Earned"
    REDEEM = "redeem", "Redeemed"
    EXPIRE = "expire", "Expired"
    ADJUST = "adjust", "Adjusted"
    REVERSE = "reverse", "Reversed"


class AppendOnly(Exception):
    pass


class LedgerEntry(models.Model):
    """Append-only: a movement is never edited or deleted. Only the bookkeeping columns
    `remaining` (what is left of a lot) and `pending_until` (cleared when the points are
    released) change, through set-based updates in the services."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    points = models.BigIntegerField()
    remaining = models.BigIntegerField(default=0)
    idempotency_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    effective_on = models.DateField(default=timezone.localdate)
    pending_until = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    purchase = models.ForeignKey(
        Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="loyalty_entries"
    )
    event_code = models.CharField(max_length=60, blank=True)
    redemption = models.ForeignKey(
        "Redemption", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    reversed_entry = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    rule = models.ForeignKey(
        EarningRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "idempotency_key"], name="ledger_idempotency_unique"
            ),
            models.CheckConstraint(condition=~Q(points=0), name="ledger_points_nonzero"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & (Q(remaining=0) | Q(remaining__lte=F("points"))),
                name="ledger_remaining_within_lot",
            ),
            models.CheckConstraint(
                condition=~Q(kind="earn") | Q(points__gt=0), name="ledger_earn_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["redeem", "expire"]) | Q(points__lt=0),
                name="ledger_spend_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjust") | ~Q(reason=""), name="ledger_adjust_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["membership", "-created_at"], name="ledger_membership_time"),
            models.Index(
                fields=["expires_on"],
                condition=Q(remaining__gt=0),
                name="ledger_open_lots_expiry",
            ),
            models.Index(
                fields=["pending_until"],
                condition=Q(pending_until__isnull=False),
                name="ledger_pending",
            ),
            models.Index(
                fields=["membership", "kind", "effective_on"], name="ledger_membership_kind"
            ),
            # The incremental nightly run finds the entries written since the last run.
            models.Index(fields=["created_at"], name="ledger_created"),
            # Event entries (referrals, reviews...) among millions of purchase lots: the
            # ladder's advocacy rule reads only these.
            models.Index(
                fields=["membership", "effective_on"],
                condition=~Q(event_code=""),
                name="ledger_events",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.points:+d} ({self.membership})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Ledger entries are append-only; record a new movement instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Ledger entries are append-only; record a reversal instead.")
