"""Rewards and their codes, redemptions, offers and offer redemptions."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Customer, Purchase, Segment

from .programs import Membership, Program, Tier


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
    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
        help_text="The program whose page lists it (an offer for a tier belongs to the tier's "
        "program). Empty: listed with every program.",
    )
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
        tier = self.tier if self.tier_id else None
        if tier is not None and self.program_id and tier.program_id != self.program_id:
            errors["tier"] = "This tier belongs to another program than the offer's."
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


class OfferGrant(models.Model):
    """An offer an account manager handed to one customer: the customer sees it first in the
    portal, with who gave it. Once per offer and customer (giving it again changes nothing)."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="grants")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="offer_grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = "handed-out offer"
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "customer"], name="offergrant_once_per_customer"
            )
        ]
        indexes = [models.Index(fields=["customer", "offer"], name="offergrant_customer_offer")]

    def __str__(self) -> str:
        return f"{self.offer} for {self.customer}"


class OfferReach(models.Model):
    """How far an offer got, counted by the nightly run (counting the customers an offer
    targets reads every purchase, too slow for a page on a large book): the customers it
    reached (targeted, handed it or used it) and those of them who used it."""

    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="reach")
    reached = models.PositiveIntegerField()
    used = models.PositiveIntegerField()
    computed_on = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(used__lte=F("reached")), name="offerreach_used_lte")
        ]

    def __str__(self) -> str:
        return f"{self.offer}: {self.used} of {self.reached}"

    @property
    def conversion_percent(self) -> float | None:
        """Customers who used it per 100 customers it reached; None when it reached nobody."""
        return 100 * self.used / self.reached if self.reached else None
