"""Programs, their tiers, memberships and tier changes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Customer, Segment


class ExpiryPolicy(models.TextChoices):
    NEVER = "never", "Never"
    MONTHS_AFTER_EARNING = "months", "N months after earning"
    END_OF_YEAR = "end_of_year", "At the end of the year they were earned"


class TierBasis(models.TextChoices):
    POINTS_EARNED = "points", "Points earned in the qualification window"
    SPEND = "spend", "Money spent in the qualification window"


class DowngradePolicy(models.TextChoices):
    NEVER = "never", "Never downgrade"
    END_OF_WINDOW = "end_of_window", "At the end of the qualification window"
    GRACE_PERIOD = "grace_period", "After a grace period below the threshold"


class Program(models.Model):
    name = models.CharField(max_length=120, unique=True)
    points_name = models.CharField(
        max_length=40, default="points", help_text="What members call the points (miles, stars)."
    )
    currency = models.CharField(max_length=3, default="EUR")
    points_per_unit = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=1,
        help_text="Points earned per unit of money spent (before rules and multipliers).",
    )
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True)
    eligible_segments = models.ManyToManyField(
        Segment,
        blank=True,
        related_name="loyalty_programs",
        help_text="Segments whose customers may join. Empty means every segment.",
    )
    join_on_first_purchase = models.BooleanField(
        default=True, help_text="Eligible customers join automatically when they buy."
    )
    pending_days = models.PositiveIntegerField(
        default=0, help_text="Days earned points stay pending before they can be spent."
    )
    expiry_policy = models.CharField(
        max_length=20, choices=ExpiryPolicy.choices, default=ExpiryPolicy.NEVER
    )
    expiry_months = models.PositiveIntegerField(null=True, blank=True)
    tier_basis = models.CharField(
        max_length=10, choices=TierBasis.choices, default=TierBasis.POINTS_EARNED
    )
    qualification_days = models.PositiveIntegerField(
        default=365, help_text="Length of the rolling window tiers are computed on."
    )
    downgrade_policy = models.CharField(
        max_length=20, choices=DowngradePolicy.choices, default=DowngradePolicy.END_OF_WINDOW
    )
    grace_days = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="program_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(points_per_unit__gte=0), name="program_points_per_unit_gte_0"
            ),
            models.CheckConstraint(
                condition=~Q(expiry_policy="months") | Q(expiry_months__gt=0),
                name="program_expiry_months_set",
            ),
            models.CheckConstraint(
                condition=Q(qualification_days__gt=0), name="program_window_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "The program cannot end before it starts."
        if self.expiry_policy == ExpiryPolicy.MONTHS_AFTER_EARNING and not self.expiry_months:
            errors["expiry_months"] = "Say after how many months points expire."
        if self.expiry_policy != ExpiryPolicy.MONTHS_AFTER_EARNING and self.expiry_months:
            errors["expiry_months"] = "Months only apply to the 'N months after earning' policy."
        if self.downgrade_policy == DowngradePolicy.GRACE_PERIOD and not self.grace_days:
            errors["grace_days"] = "A grace-period downgrade needs a number of days."
        cur = (self.currency or "").upper()
        if len(cur) != 3 or not cur.isalpha():
            errors["currency"] = "The currency must be a three-letter ISO code."
        if errors:
            raise ValidationError(errors)
        self.currency = cur

    def is_active_on(self, day) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Tier(models.Model):
    """A tier holds from its threshold up to the next tier's threshold."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=60)
    threshold = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Points earned (or money spent) in the window needed to reach this tier.",
    )
    multiplier = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    perks = models.TextField(blank=True)

    class Meta:
        ordering = ["program", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="tier_name_unique"),
            models.UniqueConstraint(fields=["program", "threshold"], name="tier_threshold_unique"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="tier_threshold_gte_0"),
            models.CheckConstraint(condition=Q(multiplier__gt=0), name="tier_multiplier_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program})"


class JoinSource(models.TextChoices):
    MANUAL = "manual", "By hand"
    RULE = "rule", "By rule"
    PURCHASE = "purchase", "On first purchase"
    SELF = "self", "By the customer"


class Membership(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    tier_since = models.DateField(null=True, blank=True)
    below_tier_since = models.DateField(
        null=True, blank=True, help_text="First night the member qualified for less than the tier."
    )
    balance = models.BigIntegerField(default=0)
    pending_points = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(default=timezone.now)
    join_source = models.CharField(
        max_length=20, choices=JoinSource.choices, default=JoinSource.MANUAL
    )

    class Meta:
        ordering = ["program", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "program"], name="membership_one_per_program"
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="membership_balance_gte_0"),
            models.CheckConstraint(
                condition=Q(pending_points__gte=0), name="membership_pending_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["program", "tier"], name="membership_program_tier")]

    def __str__(self) -> str:
        return f"{self.customer} in {self.program}"


class TierChange(models.Model):
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="tier_changes"
    )
    from_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    run_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["membership", "-changed_at"], name="tierchange_membership")]

    def __str__(self) -> str:
        return f"{self.membership}: {self.from_tier or '-'} → {self.to_tier or '-'}"
