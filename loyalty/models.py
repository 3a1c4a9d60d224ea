"""Loyalty programs on a points ledger.

Invariants the database keeps: one membership per customer and program; a cached
balance that is never negative; an idempotency key per membership so a purchase, an
event or a redemption request moves points at most once. `points` on a ledger entry
is signed; positive entries are *lots* whose `remaining` is consumed oldest first.
For every membership: balance == sum(released entries) == sum(remaining of released
lots), pending_points == sum(entries still pending); `loyalty_audit` checks both.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Customer, Purchase, Segment


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


class RuleKind(models.TextChoices):
    PER_MONEY = "per_money", "Points per unit of money"
    EVENT = "event", "Fixed points for an event"
    MULTIPLIER = "multiplier", "Multiplier"


# Events other apps fire by code; the list is open (any slug works), these are suggestions.
KNOWN_EVENTS = [
    "sign_up",
    "first_purchase",
    "birthday",
    "referral",
    "review",
    "forum_answer_accepted",
    "training_attended",
]


class EarningRule(models.Model):
    """Rules apply in `priority` order (lowest first); the order is unique per program."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    priority = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    points_per_unit = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Per-money rules: overrides the program's conversion when set.",
    )
    excluded_categories = models.CharField(
        max_length=500,
        blank=True,
        help_text="Per-money rules: comma-separated categories that earn nothing.",
    )
    event_code = models.SlugField(
        max_length=60,
        blank=True,
        help_text="Event rules: " + ", ".join(KNOWN_EVENTS) + ", or any code.",
    )
    points = models.PositiveIntegerField(
        null=True, blank=True, help_text="Event rules: fixed points."
    )
    multiplier = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    tier = models.ForeignKey(
        Tier, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    category = models.CharField(
        max_length=100, blank=True, help_text="Multipliers: only this category."
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    cap_per_day = models.PositiveIntegerField(null=True, blank=True)
    cap_per_month = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["program", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["program", "priority"], name="rule_priority_unique"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="rule_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="event") | (Q(points__gt=0) & ~Q(event_code="")),
                name="rule_event_has_code_and_points",
            ),
            models.CheckConstraint(
                condition=~Q(kind="multiplier") | Q(multiplier__gt=0),
                name="rule_multiplier_set",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.priority} {self.name}"

    @property
    def excluded(self) -> set[str]:
        return {c.strip().lower() for c in self.excluded_categories.split(",") if c.strip()}

    def applies_on(self, day) -> bool:
        return (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or day <= self.ends_on
        )

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "The rule cannot end before it starts."
        if self.kind == RuleKind.EVENT:
            if not self.event_code:
                errors["event_code"] = "An event rule needs the event code it reacts to."
            if not self.points:
                errors["points"] = "An event rule needs a number of points above zero."
        if self.kind == RuleKind.MULTIPLIER and not self.multiplier:
            errors["multiplier"] = "A multiplier rule needs a multiplier above zero."
        if self.kind != RuleKind.MULTIPLIER and self.multiplier:
            errors["multiplier"] = "Only multiplier rules take a multiplier."
        if self.kind != RuleKind.EVENT and (self.event_code or self.points):
            errors["event_code"] = "Only event rules take an event code and fixed points."
        if self.kind != RuleKind.PER_MONEY and (self.points_per_unit or self.excluded_categories):
            errors["points_per_unit"] = "Only per-money rules take a rate and excluded categories."
        if self.tier is not None and self.program_id and self.tier.program_id != self.program_id:
            errors["tier"] = "That tier belongs to another program."
        if self.cap_per_day and self.cap_per_month and self.cap_per_month < self.cap_per_day:
            errors["cap_per_month"] = "The monthly cap cannot be smaller than the daily cap."
        if errors:
            raise ValidationError(errors)


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


class Reward(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rewards")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    cost = models.PositiveIntegerField(help_text="Cost in points.")
    stock = models.PositiveIntegerField(null=True, blank=True, help_text="Empty means unlimited.")
    per_customer_limit = models.PositiveIntegerField(null=True, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    tiers = models.ManyToManyField(
        Tier,
        blank=True,
        related_name="rewards",
        help_text="Tiers that may redeem; empty means all.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "cost", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="reward_name_unique"),
            models.CheckConstraint(condition=Q(cost__gt=0), name="reward_cost_gt_0"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="reward_valid_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cost} pts)"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": "The reward cannot stop before it starts."})
        if self.per_customer_limit == 0:
            raise ValidationError(
                {
                    "per_customer_limit": "A limit of 0 means nobody can redeem; leave it empty for no limit."
                }
            )

    def is_valid_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class RewardCode(models.Model):
    """A pool of codes supplied by a partner; redeeming takes the next free one."""

    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=64, unique=True)
    used = models.BooleanField(default=False)

    class Meta:
        ordering = ["reward", "id"]

    def __str__(self) -> str:
        return self.code


class RedemptionStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"


class Redemption(models.Model):
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    code = models.CharField(max_length=64, unique=True)
    points = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=RedemptionStatus.choices, default=RedemptionStatus.ISSUED
    )
    idempotency_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "idempotency_key"], name="redemption_idempotency_unique"
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="redemption_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.reward.name}"


class OfferKind(models.TextChoices):
    BUNDLE = "bundle", "Bundle"
    CROSS_SELL = "cross_sell", "Cross-selling"
    CROSS_PROMOTION = "cross_promotion", "Cross-promotion"


class Offer(models.Model):
    """A targeted coupon. Every target set narrows who may use it."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=OfferKind.choices, default=OfferKind.CROSS_SELL)
    description = models.TextField(blank=True)
    coupon_code = models.CharField(max_length=40, unique=True)
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bought_category = models.CharField(
        max_length=100, blank=True, help_text="Customers who bought this…"
    )
    not_bought_category = models.CharField(max_length=100, blank=True, help_text="…but not this.")
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="In total; empty: none."
    )
    per_customer_limit = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="offer_valid_window",
            ),
            models.CheckConstraint(
                condition=Q(per_customer_limit__gt=0), name="offer_per_customer_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = "The offer cannot stop before it starts."
        if (
            self.bought_category
            and self.bought_category.strip().lower() == self.not_bought_category.strip().lower()
        ):
            errors["not_bought_category"] = "Nobody can have bought a category and not bought it."
        if self.usage_limit is not None and self.usage_limit < 1:
            errors["usage_limit"] = "A usage limit of 0 means nobody can use it; leave it empty."
        if errors:
            raise ValidationError(errors)


class OfferRedemption(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="redemptions")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="offer_redemptions"
    )
    redeemed_at = models.DateTimeField(default=timezone.now)
    purchase = models.ForeignKey(
        Purchase, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-redeemed_at", "-id"]
        indexes = [models.Index(fields=["offer", "customer"], name="offerredemption_offer_cust")]

    def __str__(self) -> str:
        return f"{self.offer} by {self.customer}"


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
