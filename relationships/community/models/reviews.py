"""Co-creation, part two: product reviews. A review is of a product the customer has
bought, by the name their purchases carry (there is no product catalogue: Purchase.product
is the name); one per customer and product; staff approve or reject it before others see it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Review(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="reviews"
    )
    product = models.CharField(
        max_length=200, help_text="As the customer's purchases name it (Purchase.product)."
    )
    rating = models.PositiveSmallIntegerField(help_text="1 to 5 stars.")
    body = models.TextField(help_text="Markdown, as written.")
    body_html = models.TextField()
    status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    rejection_reason = models.CharField(max_length=300, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="review_customer_created"),
            models.Index(fields=["status", "created_at"], name="review_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "product"], name="review_once_per_product"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values), name="review_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="review_rejected_has_reason",
            ),
            models.CheckConstraint(condition=~Q(product=""), name="review_product_present"),
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.rating}/5)"
