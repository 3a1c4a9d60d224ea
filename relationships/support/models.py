"""Support requests: what a customer asks in the portal, the thread of replies, and the
interaction (kind support or complaint) that puts it on the customer's timeline and, for
a complaint, in the root-cause counts of the defection analysis."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer
from relationships.models import Interaction


class Category(models.TextChoices):
    QUESTION = "question", "A question"
    ORDER = "order", "An order or delivery"
    BILLING = "billing", "Billing"
    PRODUCT = "product", "A product problem"
    ACCOUNT = "account", "My account or points"
    COMPLAINT = "complaint", "A complaint"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting on customer"
    RESOLVED = "resolved", "Resolved"


class AttachmentStorage(FileSystemStorage):
    """Outside MEDIA_ROOT and without a URL: a file is only ever served by the views that
    check who asks. The location is read from settings on use, so tests can move it."""

    @property
    def base_location(self) -> str:
        return str(settings.SUPPORT_ATTACHMENTS_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name) -> str:
        raise ValueError("Support attachments have no public URL.")


attachment_storage = AttachmentStorage()


class SupportRequest(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="support_requests"
    )
    interaction = models.OneToOneField(
        Interaction, on_delete=models.PROTECT, related_name="support_request"
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # The account manager at the time it was opened (or who took it); empty = the queue.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
    )
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-updated_at"], name="support_customer_time"),
            # The daily limit on opening requests counts a customer's last 24 hours.
            models.Index(fields=["customer", "created_at"], name="support_customer_opened"),
            models.Index(fields=["status", "assigned_to"], name="support_queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="support_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="support_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="support_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_complaint(self) -> bool:
        return self.category == Category.COMPLAINT


class SupportMessage(models.Model):
    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="support_messages"
    )
    from_staff = models.BooleanField(default=False)
    # Staff's note to colleagues: never shown to the customer.
    internal = models.BooleanField(default=False)
    body = models.TextField()
    attachment = models.FileField(
        storage=attachment_storage, upload_to="%Y/%m/", max_length=300, blank=True
    )
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment_size = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(internal=False) | Q(from_staff=True),
                name="support_internal_only_from_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"Message on #{self.request_id}"
