"""Co-creation, part one: the ideas board. Customers propose ideas, vote once and comment;
staff answer by changing an idea's status with a reply, and may hide an idea or a comment
that breaks the rules. Every idea belongs to a customer's relationship (``customer``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer


class IdeaStatus(models.TextChoices):
    NEW = "new", "New"
    UNDER_REVIEW = "under_review", "Under review"
    PLANNED = "planned", "Planned"
    SHIPPED = "shipped", "Shipped"
    DECLINED = "declined", "Declined"


# Statuses staff may set (a reply goes with each); "new" is only where an idea starts.
STAFF_STATUSES = (
    IdeaStatus.UNDER_REVIEW,
    IdeaStatus.PLANNED,
    IdeaStatus.SHIPPED,
    IdeaStatus.DECLINED,
)
STAFF_STATUS_CHOICES = [(s.value, s.label) for s in STAFF_STATUSES]
# A shipped or declined idea is decided: votes on it would count for nothing.
CLOSED_STATUSES = (IdeaStatus.SHIPPED, IdeaStatus.DECLINED)


class Idea(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ideas")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="ideas",
        help_text="The customer's login that proposed it.",
    )
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown, as written.")
    body_html = models.TextField(help_text="The body rendered and sanitised at save.")
    status = models.CharField(max_length=20, choices=IdeaStatus.choices, default=IdeaStatus.NEW)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    vote_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0, help_text="Visible comments.")
    is_hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="idea_customer_created"),
            models.Index(fields=["-vote_count", "-id"], name="idea_votes"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=IdeaStatus.values), name="idea_status_valid"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="idea_title_present"),
            models.CheckConstraint(
                condition=Q(is_hidden=False) | ~Q(hidden_reason=""),
                name="idea_hidden_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class IdeaVote(models.Model):
    """One vote per login and idea (the constraint, not the page, makes it so)."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_votes"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="idea_votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idea", "user"], name="idea_vote_once"),
        ]
        indexes = [models.Index(fields=["customer", "created_at"], name="idea_vote_customer")]

    def __str__(self) -> str:
        return f"{self.user} +1 {self.idea}"


class IdeaComment(models.Model):
    """A customer's or a staff member's comment; ``is_staff`` is taken when it is written,
    so a staff answer stays marked as one whatever happens to the login later."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="idea_comments",
        help_text="The customer who wrote it; empty for staff.",
    )
    is_staff = models.BooleanField(default=False)
    body = models.TextField()
    body_html = models.TextField()
    is_hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "created_at"], name="idea_comment_customer")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_staff=True, customer__isnull=True)
                | Q(is_staff=False, customer__isnull=False),
                name="idea_comment_staff_or_customer",
            ),
            models.CheckConstraint(
                condition=Q(is_hidden=False) | ~Q(hidden_reason=""),
                name="idea_comment_hidden_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.idea}"


class IdeaStatusChange(models.Model):
    """Every status an idea went through, with the staff reply that explains it."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=IdeaStatus.choices)
    to_status = models.CharField(max_length=20, choices=IdeaStatus.choices)
    reply = models.TextField()
    reply_html = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reply=""), name="idea_status_change_has_reply"),
            models.CheckConstraint(
                condition=Q(to_status__in=[s.value for s in STAFF_STATUSES]),
                name="idea_status_change_to_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idea}: {self.from_status} -> {self.to_status}"
