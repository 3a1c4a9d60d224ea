"""Earning rules: base rates, multipliers, events and caps."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from customers.models import Segment

from .programs import Program, Tier


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
    "idea_shipped",
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
