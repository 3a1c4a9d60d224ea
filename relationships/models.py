# Over 600 lines, kept whole: model declarations (fields, choices, constraints) by subject.
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, Segment, Stage


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    MEETING = "meeting", "Meeting"
    CHAT = "chat", "Chat"
    ON_SITE = "on_site", "On site"
    PORTAL = "portal", "Portal"
    COMMUNITY = "community", "Community"


class InteractionKind(models.TextChoices):
    SALE = "sale", "Sale"
    SUPPORT = "support", "Support"
    TRAINING = "training", "Training"
    COMPLAINT = "complaint", "Complaint"
    FEEDBACK = "feedback", "Feedback"
    CHECK_IN = "check_in", "Check-in"


class Sentiment(models.IntegerChoices):
    VERY_NEGATIVE = -2, "Very negative"
    NEGATIVE = -1, "Negative"
    NEUTRAL = 0, "Neutral"
    POSITIVE = 1, "Positive"
    VERY_POSITIVE = 2, "Very positive"


class Interaction(models.Model):
    """One touchpoint between the company and a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="interactions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="interactions"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    subject = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    sentiment = models.SmallIntegerField(choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    # The day a follow-up was asked for when this was logged; the follow-up itself (its
    # current due date, assignee and whether it is done) is a FollowUp.
    follow_up_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    root_cause = models.ForeignKey(
        "DefectionReason",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        help_text=(
            "For complaints: the root cause, so complaint analysis can count causes. "
            "Required when a complaint is logged; older complaints may have none."
        ),
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_time"),
            models.Index(fields=["occurred_at"], name="interaction_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sentiment__gte=-2, sentiment__lte=2), name="interaction_sentiment_range"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="interaction_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=InteractionKind.values), name="interaction_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="complaint") | Q(root_cause__isnull=True),
                name="interaction_root_cause_only_on_complaints",
                violation_error_message="Only a complaint has a root cause.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.customer}: {self.subject}"

    @property
    def follow_up_or_none(self) -> "FollowUp | None":
        try:
            return self.follow_up
        except FollowUp.DoesNotExist:
            return None

    @property
    def follow_up_done_at(self):
        follow_up = self.follow_up_or_none
        return follow_up.done_at if follow_up else None

    @property
    def follow_up_open(self) -> bool:
        follow_up = self.follow_up_or_none
        return follow_up is not None and follow_up.done_at is None


class FollowUp(models.Model):
    """Something to do for a customer by a day: asked for when an interaction was logged,
    or added on its own. It is on the assignee's list until it is done."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="follow_ups")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups"
    )
    due_on = models.DateField()
    what = models.CharField(max_length=200)
    interaction = models.OneToOneField(
        Interaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up",
        help_text="The interaction that asked for it; empty for a follow-up added on its own.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            # The follow-up list: one assignee's open ones by due date (the keyset order).
            models.Index(
                fields=["assignee", "due_on", "id"],
                condition=Q(done_at__isnull=True),
                name="follow_up_open_by_assignee",
            ),
            models.Index(
                fields=["due_on", "id"],
                condition=Q(done_at__isnull=True),
                name="follow_up_open_by_due",
            ),
            models.Index(fields=["customer", "due_on"], name="follow_up_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=True, done_by__isnull=True)
                | Q(done_at__isnull=False, done_by__isnull=False),
                name="follow_up_done_with_who",
                violation_error_message="A done follow-up says who did it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.what} ({self.customer}, {self.due_on})"


# --- Relationship strategies, retention analytics and risk -------------------------


class RelationshipType(models.TextChoices):
    TRANSACTIONAL = "transactional", "Transactional"
    LONG_TERM = "long_term", "Long-term"
    PERSONAL_ASSISTANCE = "personal_assistance", "Personal assistance"
    DEDICATED_ASSISTANCE = "dedicated_assistance", "Dedicated personal assistance"
    SELF_SERVICE = "self_service", "Self-service"
    AUTOMATED_SERVICES = "automated_services", "Automated services"
    COMMUNITIES = "communities", "Communities"
    CO_CREATION = "co_creation", "Co-creation"


class RelationshipGoal(models.TextChoices):
    ACQUIRE = "acquire", "Acquire customers"
    RETAIN = "retain", "Retain customers"
    BOOST_SALES = "boost_sales", "Boost sales"


class PurchaseRhythm(models.TextChoices):
    MARRIAGE = "marriage", "Marriage: we expect repeat purchases"
    FLING = "fling", "Fling: one-off purchases are normal"


def validate_relationship_types(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one relationship type.")
    unknown = [v for v in value if v not in RelationshipType.values]
    if unknown:
        raise ValidationError(f"Unknown relationship types: {', '.join(map(str, unknown))}.")
    if len(set(value)) != len(value):
        raise ValidationError("Each relationship type may appear only once.")


class RelationshipStrategy(models.Model):
    """What relationship a segment gets, what for, what it costs, and which purchase rhythm
    is normal for it (a "fling" segment is never flagged at risk for buying once)."""

    segment = models.OneToOneField(Segment, on_delete=models.CASCADE, related_name="strategy")
    relationship_types = models.JSONField(
        default=list,
        validators=[validate_relationship_types],
        help_text='A list of relationship type codes, e.g. ["long_term", "communities"].',
    )
    goal = models.CharField(max_length=20, choices=RelationshipGoal.choices)
    cost_to_serve_per_year = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="What serving one customer of this segment costs per year.",
    )
    currency = models.CharField(max_length=3, default="EUR")
    rhythm = models.CharField(
        max_length=10, choices=PurchaseRhythm.choices, default=PurchaseRhythm.MARRIAGE
    )
    expected_gap_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="For a marriage: the usual number of days between purchases.",
    )
    notes = models.TextField(blank=True)
    switching_costs = models.TextField(
        blank=True,
        help_text="What makes it hard for these customers to change supplier, and how we raise it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["segment__name"]
        verbose_name_plural = "relationship strategies"
        constraints = [
            models.CheckConstraint(
                condition=Q(rhythm="fling") | Q(expected_gap_days__gt=0),
                name="strategy_marriage_has_gap",
            ),
            models.CheckConstraint(
                condition=Q(rhythm__in=["marriage", "fling"]), name="strategy_rhythm_valid"
            ),
            models.CheckConstraint(
                condition=Q(goal__in=["acquire", "retain", "boost_sales"]),
                name="strategy_goal_valid",
            ),
            models.CheckConstraint(
                condition=Q(cost_to_serve_per_year__gte=0), name="strategy_cost_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"Strategy for {self.segment}"

    @property
    def expects_repeat(self) -> bool:
        return self.rhythm == PurchaseRhythm.MARRIAGE

    @property
    def relationship_type_labels(self) -> list[str]:
        labels = dict(RelationshipType.choices)
        return [labels.get(v, v) for v in self.relationship_types or []]


class StrategyChange(models.Model):
    """A segment or its strategy changed: who, when, the fields before and after, and
    whether the change made the next night a full one (what every customer's numbers
    depend on changed)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="strategy_changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(default=dict, blank=True, help_text="Empty when it was created.")
    after = models.JSONField(default=dict)
    full_night = models.BooleanField(default=False)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["segment", "-changed_at"], name="strategychange_segment")]

    def __str__(self) -> str:
        return f"{self.segment} changed {self.changed_at:%Y-%m-%d %H:%M}"

    @property
    def changed_fields(self) -> list[str]:
        keys = list(dict.fromkeys([*self.before, *self.after]))
        return [k for k in keys if self.before.get(k) != self.after.get(k)]


class ValueBand(models.IntegerChoices):
    LOW = 0, "Low"
    MEDIUM = 1, "Medium"
    HIGH = 2, "High"


class StrategicAssessment(models.Model):
    """An account manager's or admin's judgement of a customer's strategic value
    (reference, partner potential, market access): the part numbers cannot see."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="strategic_assessment"
    )
    score = models.PositiveSmallIntegerField(help_text="0 (none) to 100 (vital).")
    is_reference = models.BooleanField(
        default=False, help_text="Agrees to be a public reference for us."
    )
    size_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="0-100: size of the organisation or our share of wallet."
    )
    note = models.CharField(max_length=300, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="strategic_score_lte_100"),
            models.CheckConstraint(
                condition=Q(size_score__isnull=True) | Q(size_score__lte=100),
                name="strategic_size_lte_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: strategic {self.score}"


class CustomerMetrics(models.Model):
    """The current numbers for one customer, rewritten by each nightly run."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="metrics")
    computed_for = models.DateField(help_text="The run date these numbers are as of.")
    first_purchase_at = models.DateTimeField(null=True, blank=True)
    last_purchase_at = models.DateTimeField(null=True, blank=True)
    purchase_count = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    usual_gap_days = models.FloatField(null=True, blank=True)
    days_since_last_purchase = models.PositiveIntegerField(null=True, blank=True)
    complaints_30d = models.PositiveIntegerField(default=0)
    last_manager_contact_at = models.DateTimeField(null=True, blank=True)
    p_alive = models.FloatField(null=True, blank=True)
    expected_purchases_30d = models.FloatField(default=0)
    expected_purchases_90d = models.FloatField(default=0)
    expected_purchases_365d = models.FloatField(default=0)
    clv_12m = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    value_at_risk = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    financial_value = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    strategic_value = models.FloatField(default=0)
    financial_band = models.SmallIntegerField(choices=ValueBand.choices, default=ValueBand.LOW)
    strategic_band = models.SmallIntegerField(choices=ValueBand.choices, default=ValueBand.LOW)
    risk_score = models.PositiveSmallIntegerField(default=0)
    reasons = models.JSONField(default=list, blank=True)
    # Inputs an incremental night reuses for customers with nothing new (relationships/nightly/incremental.py).
    revenue_12m = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Revenue of the 365 days before the run date.",
    )
    points_unused_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Since when loyalty points held have gone unused (none: no points).",
    )
    community_90d = models.PositiveIntegerField(
        default=0,
        help_text="Community contributions in the 90 days before the run date: forum posts, "
        "accepted answers, ideas, votes, comments, approved reviews.",
    )
    # Who the retention snapshots counted, as of the last full night (an incremental night
    # keeps them, as it keeps the snapshots): a customer on day D has customer_since <= D
    # and no churned_on, or a later one. The customer list finds "the customers behind a
    # number" of the dashboard with these two dates, by the rule the number was counted by.
    customer_since = models.DateField(
        null=True,
        blank=True,
        help_text="Acquired on (else the first purchase day), as retention counted it.",
    )
    churned_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day retention counted the customer as lost (none: not lost).",
    )

    class Meta:
        verbose_name_plural = "customer metrics"
        ordering = ["-value_at_risk", "customer_id"]
        indexes = [
            models.Index(fields=["-risk_score"], name="metrics_risk"),
            models.Index(fields=["-value_at_risk"], name="metrics_value_at_risk"),
            # The customers behind a retention figure: the customer list walks its index in
            # name order and tests each customer here, without reading the metrics row.
            models.Index(
                fields=["customer", "customer_since", "churned_on"], name="metrics_retention_dates"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(risk_score__lte=100), name="metrics_risk_lte_100"),
            models.CheckConstraint(
                condition=Q(financial_band__in=[0, 1, 2]) & Q(strategic_band__in=[0, 1, 2]),
                name="metrics_bands_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Metrics of {self.customer} for {self.computed_for}"

    @property
    def value_tier(self) -> str:
        return f"{self.get_financial_band_display()} financial / {self.get_strategic_band_display()} strategic"


HANDLED_NOTE_MAX = 1000  # a few sentences: what was done, what comes next


class RiskFlag(models.Model):
    """A customer flagged at risk by a nightly run. An open flag is also the account
    manager's to-do: the at-risk queue lists them; the flag clears when the score recovers.
    While open, score, reasons and value at risk follow the latest run; a cleared flag
    keeps the numbers of its last night at risk. A manager may mark an open flag handled
    (with a note): it moves below the unhandled ones until a night finds the customer
    still at risk, which sets reraised_on and puts it back among them."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="risk_flags")
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="risk_flags",
        help_text="Who was asked to act when the flag was raised.",
    )
    raised_on = models.DateField()
    cleared_on = models.DateField(null=True, blank=True)
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list, blank=True)
    value_at_risk = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    # The manager's answer: the latest "mark handled" and its note. Kept when a night finds
    # the customer still at risk (reraised_on), so the flag can say what was tried.
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="risk_flags_handled",
    )
    # The database default too: the nightly run inserts new flags with SQL of its own.
    handled_note = models.CharField(
        max_length=HANDLED_NOTE_MAX, blank=True, default="", db_default=""
    )
    reraised_on = models.DateField(
        null=True,
        blank=True,
        help_text="The night that found the customer still at risk after the flag was handled.",
    )
    # The queue's first sort key, derived by the database so it cannot disagree with the
    # fields above: handled and not re-raised since.
    handled = models.GeneratedField(
        expression=models.ExpressionWrapper(
            Q(handled_at__isnull=False, reraised_on__isnull=True),
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-raised_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "-raised_on"], name="riskflag_customer"),
            # The at-risk queue: open flags, unhandled first, then the most value at risk.
            # `handled` leads so each run of the keyset walk (selectors.risk_queue_page) is
            # one range scan: handled = h AND value_at_risk <= v.
            models.Index(
                fields=["handled", "-value_at_risk", "-score", "id"],
                condition=Q(cleared_on__isnull=True),
                name="riskflag_open_queue",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(cleared_on__isnull=True),
                name="riskflag_one_open_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(cleared_on__isnull=True) | Q(cleared_on__gte=models.F("raised_on")),
                name="riskflag_clears_after_raise",
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="riskflag_score_lte_100"),
            # Handled means handled with a note; a re-raise follows a handling.
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True, handled_note="")
                | (Q(handled_at__isnull=False) & ~Q(handled_note="")),
                name="riskflag_handled_with_note",
            ),
            models.CheckConstraint(
                condition=Q(reraised_on__isnull=True) | Q(handled_at__isnull=False),
                name="riskflag_reraised_after_handled",
            ),
        ]

    def __str__(self) -> str:
        state = f"cleared {self.cleared_on}" if self.cleared_on else "open"
        return f"{self.customer} at risk since {self.raised_on} ({state})"

    @property
    def is_open(self) -> bool:
        return self.cleared_on is None


class ModelFit(models.Model):
    """The BG/NBD and Gamma-Gamma parameters fitted by one nightly run, and how well a
    fit on the calibration period predicted the holdout period."""

    run_date = models.DateField(unique=True)
    n_customers = models.PositiveIntegerField(default=0)
    bgnbd_r = models.FloatField(null=True, blank=True)
    bgnbd_alpha = models.FloatField(null=True, blank=True)
    bgnbd_a = models.FloatField(null=True, blank=True)
    bgnbd_b = models.FloatField(null=True, blank=True)
    gg_p = models.FloatField(null=True, blank=True)
    gg_q = models.FloatField(null=True, blank=True)
    gg_v = models.FloatField(null=True, blank=True)
    holdout_days = models.PositiveIntegerField(default=0)
    holdout_mae = models.FloatField(null=True, blank=True)
    # How far to trust the parameters: the summed log-likelihood at the estimate, whether
    # the optimiser converged, the customers each model saw and the penalty it was given.
    bgnbd_log_likelihood = models.FloatField(null=True, blank=True)
    bgnbd_converged = models.BooleanField(null=True, blank=True)
    gg_n_customers = models.PositiveIntegerField(default=0)
    gg_log_likelihood = models.FloatField(null=True, blank=True)
    gg_converged = models.BooleanField(null=True, blank=True)
    penalizer = models.FloatField(default=0.0)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-run_date"]

    def __str__(self) -> str:
        return f"Model fit of {self.run_date}"


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"


class CutKind(models.TextChoices):
    ALL = "all", "Whole book"
    SEGMENT = "segment", "Segment"
    RELATIONSHIP_TYPE = "relationship_type", "Relationship type"
    ACCOUNT_MANAGER = "account_manager", "Account manager"
    COHORT = "cohort", "Cohort"


class RetentionSnapshot(models.Model):
    """Retention for one period and one cut of the book, as computed by one nightly run."""

    run_date = models.DateField()
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    cut_kind = models.CharField(max_length=20, choices=CutKind.choices)
    cut_key = models.CharField(max_length=100, blank=True, default="")
    cut_label = models.CharField(max_length=200, blank=True, default="")
    at_start = models.PositiveIntegerField(default=0)
    retained = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)
    retention_rate = models.FloatField(null=True, blank=True)
    churn_rate = models.FloatField(null=True, blank=True)
    lifetime_periods = models.FloatField(null=True, blank=True)
    revenue_retention = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-run_date", "period_kind", "period_start", "cut_kind", "cut_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["run_date", "period_kind", "period_start", "cut_kind", "cut_key"],
                name="retention_snapshot_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["run_date", "cut_kind", "period_kind"], name="retention_run_cut"),
        ]

    def __str__(self) -> str:
        return f"{self.period_kind} {self.period_start} {self.cut_kind}:{self.cut_key}"

    @property
    def is_complete(self) -> bool:
        """Whether the period was over when the run counted it (its last day before the
        run date): a running period's figures cover only the days so far."""
        return self.period_end < self.run_date


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunMode(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental"


class NightlyRun(models.Model):
    run_date = models.DateField(unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    mode = models.CharField(max_length=12, choices=RunMode.choices, default=RunMode.FULL)
    mode_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the run took this mode."
    )
    rows = models.JSONField(default=dict, blank=True, help_text="Rows written per step.")
    durations = models.JSONField(default=dict, blank=True, help_text="Seconds per step.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-run_date"]

    def __str__(self) -> str:
        return f"Nightly run {self.run_date} ({self.status})"

    @property
    def total_seconds(self) -> float:
        """Wall time of the run. Not the sum of the steps: on a full night the metrics
        write runs on the server while retention is computed, so those two overlap."""
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds(), 2)
        return round(sum((self.durations or {}).values()), 2)


class NightlyState(models.Model):
    """The per-customer summaries the latest night ended with, as numpy arrays (one
    ``np.savez`` blob): where the next incremental night starts. Reading them back from
    Customer and CustomerMetrics took ~4.5 s for a million customers, this blob a fraction
    of a second. A cache of what those tables hold: only the latest is kept, and a missing
    or outdated one means a full night."""

    run = models.OneToOneField(NightlyRun, on_delete=models.CASCADE, related_name="state")
    version = models.PositiveSmallIntegerField()
    customers = models.PositiveIntegerField()
    arrays = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"State after the run of {self.run.run_date} ({self.customers} customers)"


class DefectionReason(models.Model):
    """The taxonomy of root causes; admins extend it."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Defection(models.Model):
    """A customer who left, why (root cause), and what the exit interview said."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="defections")
    reason = models.ForeignKey(DefectionReason, on_delete=models.PROTECT, related_name="defections")
    exit_interview_notes = models.TextField(blank=True)
    defected_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="defections_recorded"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-defected_on", "-id"]
        indexes = [models.Index(fields=["-defected_on"], name="defection_date")]

    def __str__(self) -> str:
        return f"{self.customer} left on {self.defected_on}: {self.reason}"


# --- Ladder of loyalty suggestions, corrective plans -----------------------------------


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class LadderSuggestion(models.Model):
    """A rule's proposal to move a customer up the ladder of loyalty, waiting for the
    account manager to accept (the move is made) or dismiss it (never suggested again)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="ladder_suggestions"
    )
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    rule = models.CharField(max_length=100)
    reason = models.CharField(max_length=300)
    created_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_on", "-id"]
        indexes = [
            # The Ladder page's queue: open suggestions, newest first, read by keyset order.
            models.Index(
                fields=["-created_on", "-id"],
                condition=Q(status="open"),
                name="laddersuggestion_open_queue",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="open"),
                name="laddersuggestion_one_open_per_customer",
            ),
            models.CheckConstraint(
                condition=~Q(from_stage=models.F("to_stage")), name="laddersuggestion_moves"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "accepted", "dismissed"]),
                name="laddersuggestion_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True)
                | (~Q(status="open") & Q(decided_at__isnull=False)),
                name="laddersuggestion_decided_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_stage} → {self.to_stage} ({self.status})"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    DONE = "done", "Done"


class CorrectivePlan(models.Model):
    """What we do about the root causes that make customers leave (after valuing customers,
    measuring retention and finding why they defect), who owns it, and (on its page)
    whether defections went down."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    causes = models.ManyToManyField(DefectionReason, related_name="corrective_plans")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans_owned"
    )
    recovery_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="recovery_plans"
    )
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    started_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "active", "done"]), name="plan_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(started_on__isnull=False),
                name="plan_started_unless_draft",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class CorrectiveAction(models.Model):
    plan = models.ForeignKey(CorrectivePlan, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="corrective_actions"
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", done_at__isnull=True)
                | Q(status="done", done_at__isnull=False),
                name="action_done_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.description
