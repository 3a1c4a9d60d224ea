from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    ACCOUNT_MANAGER = "account_manager", "Account manager"
    CUSTOMER = "customer", "Customer"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username, email="", password=None, **extra):
        if not username:
            raise ValueError("A username is required.")
        user = self.model(username=username, email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, email="", password=None, **extra):
        extra["role"] = Role.ADMIN
        return self.create_user(username, email, password, **extra)


class User(AbstractBaseUser):
    """A person who logs in. The role is the only thing that says what they may do:
    there is no separate is_staff/is_superuser flag that could disagree with it."""

    username = models.CharField(max_length=150, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CUSTOMER)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_account_manager(self) -> bool:
        return self.is_active and self.role == Role.ACCOUNT_MANAGER

    @property
    def is_staff_member(self) -> bool:
        return self.is_admin or self.is_account_manager

    # The Django admin and permission checks read these; both derive from role.
    @property
    def is_staff(self) -> bool:
        return self.is_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_admin

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_admin

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_admin

    def has_module_perms(self, app_label) -> bool:
        return self.is_admin


class StaffEventKind(models.TextChoices):
    INVITED = "invited", "Invited"
    JOINED = "joined", "Set a password and joined"
    DEACTIVATED = "deactivated", "Deactivated"


class StaffEvent(models.Model):
    """What happened to a staff account and who did it: an invitation stays open while
    the account is inactive and its last event is the invitation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_events")
    kind = models.CharField(max_length=20, choices=StaffEventKind.choices)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"], name="staffevent_user_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in StaffEventKind]),
                name="staffevent_kind_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class Segment(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    inactivity_days = models.PositiveIntegerField(
        default=365,
        help_text="A customer with no purchase for this many days no longer counts as retained.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    """The ladder of loyalty, lowest rung first."""

    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"
    CLIENT = "client", "Client"
    SUPPORTER = "supporter", "Supporter"
    ADVOCATE = "advocate", "Advocate"
    PARTNER = "partner", "Partner"


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DEFECTED = "defected", "Defected"


class CustomerKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANISATION = "organisation", "Organisation"


class Customer(models.Model):
    kind = models.CharField(
        max_length=20, choices=CustomerKind.choices, default=CustomerKind.PERSON
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    # The customer's id in another system (shop, ERP): an import matches rows on it, so
    # re-importing the same file updates instead of duplicating. Blank means none.
    external_id = models.CharField(
        "External id",
        max_length=100,
        blank=True,
        default="",
        help_text="The id of this customer in another system; unique when set.",
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, null=True, blank=True, related_name="customers"
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PROSPECT)
    status = models.CharField(
        max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    acquired_on = models.DateField(null=True, blank=True)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="book",
        limit_choices_to={"role": Role.ACCOUNT_MANAGER},
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer_record",
        help_text="The portal login of this customer, if they have one.",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    # How the customer lets us reach them about their account (set by them in the portal).
    allows_email = models.BooleanField("E-mail", default=True)
    allows_phone = models.BooleanField("Phone", default=True)
    allows_sms = models.BooleanField("Text messages", default=False)
    allows_post = models.BooleanField("Post", default=True)
    # Marketing needs an explicit yes, with the moment it was given or withdrawn (the
    # history of every change is in ConsentChange).
    newsletter_consent = models.BooleanField(default=False)
    newsletter_consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # What staff write on a record, in the order the form and the import file show it;
    # the services accept these and no others. The account manager (which records an
    # assignment) and the tags (a list) are handled apart.
    EDITABLE_FIELDS = (
        "name",
        "kind",
        "email",
        "phone",
        "company",
        "address",
        "segment",
        "stage",
        "status",
        "acquired_on",
        "external_id",
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customer_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_id"),
            models.Index(fields=["account_manager", "name", "id"], name="customer_am_name_id"),
            models.Index(fields=["segment", "name", "id"], name="customer_segment_name_id"),
            models.Index(fields=["stage", "name", "id"], name="customer_stage_name_id"),
            models.Index(fields=["status", "name", "id"], name="customer_status_name_id"),
            models.Index(fields=["email"], name="customer_email"),
            models.Index(fields=["-created_at", "id"], name="customer_created"),
            # The staff list's "acquired" sort pages through (acquired_on, id) by keyset.
            models.Index(fields=["acquired_on", "id"], name="customer_acquired_id"),
            # Segment + stage is the common list filter: its capped count and its page are
            # index-only range scans instead of a bitmap over the whole segment (bench/).
            models.Index(
                fields=["segment", "stage", "name", "id"], name="customer_segment_stage_name"
            ),
        ]

    # What a customer may change about themselves in the portal. The rest (segment, stage,
    # status, the account manager) is the company's view of the relationship.
    SELF_EDITABLE_FIELDS = ("name", "email", "phone", "company", "address")
    CHANNEL_FIELDS = ("allows_email", "allows_phone", "allows_sms", "allows_post")

    def __str__(self) -> str:
        return self.name


class AccountManagerAssignment(models.Model):
    """Who managed whom from when to when, and why it changed."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments_made",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(ended_at__isnull=True),
                name="assignment_one_open_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="assignment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.customer} → {self.account_manager or 'nobody'} from {self.started_at:%Y-%m-%d}"
        )


class Purchase(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="purchases")
    reference = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    occurred_at = models.DateTimeField()
    product = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "reference"], name="purchase_reference_unique_per_customer"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")), name="purchase_amount_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="purchase_currency_iso"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="purchase_customer_time"),
            models.Index(fields=["occurred_at"], name="purchase_time"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency}"


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", "Customers"
    PURCHASES = "purchases", "Purchases"


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", "Import nothing if any row is bad"
    VALID_ROWS = "valid_rows", "Import the valid rows, report the bad ones"


class ImportMatch(models.TextChoices):
    """How a customer row finds the customer it updates; without a match it creates one."""

    EXTERNAL_ID = "external_id", "Match on external id (update, else create)"
    EMAIL = "email", "Match on e-mail (update, else create)"
    NONE = "none", "No matching: every row creates a customer"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    CHECKED = "checked", "Checked: waiting for your go"
    DONE = "done", "Done"
    REJECTED = "rejected", "Rejected (nothing imported)"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A CSV upload being validated and imported by a Celery task."""

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    mode = models.CharField(max_length=20, choices=ImportMode.choices)
    match_on = models.CharField(
        max_length=20, choices=ImportMatch.choices, default=ImportMatch.NONE
    )
    # A checked job stops after validation with what it would do (created and updated
    # below); the admin's go sends it again with check_only off.
    check_only = models.BooleanField(default=False)
    filename = models.CharField(max_length=255)
    content = models.TextField()
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    created_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="imports"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Handing the job to the broker (the outbox, customers/outbox.py): the id of the last
    # message sent for it (a message with another id does nothing), when a send was last
    # tried, and when the broker accepted one. Saved but never accepted: re-sent by the
    # periodic sweep.
    task_id = models.CharField(max_length=64, blank=True)
    send_tried_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's look-up: the few pending jobs no broker accepted.
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending", sent_at__isnull=True),
                name="importjob_unsent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.filename} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in {ImportStatus.DONE, ImportStatus.REJECTED} else 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def is_finished(self) -> bool:
        return self.status in {
            ImportStatus.DONE,
            ImportStatus.REJECTED,
            ImportStatus.FAILED,
            ImportStatus.CHECKED,
        }


class StageChange(models.Model):
    """A move on the ladder of loyalty: when, from where to where, by whom (or which rule), why."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when a rule moved the customer.",
    )
    rule = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_at"], name="stagechange_customer")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_stage=models.F("to_stage")), name="stagechange_moves"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_stage} → {self.to_stage}"


class ConsentSource(models.TextChoices):
    PORTAL = "portal", "The customer, in the portal"
    STAFF = "staff", "Staff"
    DELETION = "deletion", "Account deletion"


class ConsentChange(models.Model):
    """Every newsletter consent given or withdrawn: who, when, how. Kept as proof of
    consent; never edited."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    newsletter = models.BooleanField(help_text="The consent after the change.")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=20, choices=ConsentSource.choices)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_at"], name="consent_customer")]

    def __str__(self) -> str:
        return f"{self.customer}: newsletter {'yes' if self.newsletter else 'no'}"


class DeletionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for staff"
    COMPLETED = "completed", "Completed (record anonymised)"
    WITHDRAWN = "withdrawn", "Withdrawn by the customer"
    REFUSED = "refused", "Refused"


class DeletionRequest(models.Model):
    """A customer asks for their account to be deleted; staff confirm it. Completing it
    anonymises the record and closes the login; purchases stay (anonymised) for the books."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="deletion_requests"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True, max_length=2000)
    status = models.CharField(
        max_length=20, choices=DeletionStatus.choices, default=DeletionStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="pending"),
                name="deletion_one_pending_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "completed", "withdrawn", "refused"]),
                name="deletion_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="deletion_decided_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Deletion of {self.customer} ({self.get_status_display()})"


class CustomerMerge(models.Model):
    """Two records of one customer made one: the absorbed record's history, purchases,
    points and interactions moved to the survivor and the absorbed record was deleted.
    Kept so the old address still leads somewhere and so the merge can be audited."""

    survivor = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="merges"
    )
    survivor_name = models.CharField(max_length=200)
    absorbed_id = models.PositiveBigIntegerField(unique=True)
    absorbed_name = models.CharField(max_length=200)
    absorbed_email = models.EmailField(blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    # {"what moved": how many rows}, as the merge page and the API showed it.
    moved = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.absorbed_id} {self.absorbed_name} merged into {self.survivor_name}"
