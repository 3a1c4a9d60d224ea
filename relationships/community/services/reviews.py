"""Writes on product reviews: a customer reviews a product they bought (one review per
product), staff approve or reject it. Approval fires the ``review`` loyalty event once."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.errors import Conflict, ValidationFailed
from customers.models import Purchase, User
from loyalty.services import points_earn_for_event

from ..markdown import render_markdown
from ..models import Review, ReviewStatus
from ._cocreation import clean_text, own_customer, require_staff

BODY_MAX = 5_000
REASON_MAX = 300
REVIEW_EVENT = "review"  # loyalty.KNOWN_EVENTS


@transaction.atomic
def review_write(*, user: User, product: str, rating: object, body: str) -> Review:
    """The review waits for moderation. ``product`` must name something the customer bought
    (compared without case; stored as their purchases spell it)."""
    customer = own_customer(user, "write a review")
    name = clean_text(product, field="product", label="The product", max_length=200)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("The rating is a whole number of stars from 1 to 5.", field="rating")
    body = clean_text(body, field="body", label="The review", max_length=BODY_MAX)
    bought = (
        Purchase.objects.filter(customer=customer, product__iexact=name)
        .order_by("occurred_at", "id")
        .values_list("product", flat=True)
        .first()
    )
    if bought is None:
        raise ValidationFailed("You can only review a product you have bought.", field="product")
    if Review.objects.filter(customer=customer, product__iexact=bought).exists():
        raise Conflict(f"You have already reviewed {bought}.", field="product")
    try:
        with transaction.atomic():
            return Review.objects.create(
                customer=customer,
                author=user,
                product=bought,
                rating=rating,
                body=body,
                body_html=render_markdown(body),
            )
    except IntegrityError as exc:  # the same review sent twice at once
        raise Conflict(f"You have already reviewed {bought}.", field="product") from exc


@transaction.atomic
def review_moderate(*, actor: User, review: Review, approve: bool, reason: str = "") -> Review:
    """Approve (others see it; the customer's ``review`` event fires, once per review) or
    reject with a reason the customer reads. A decision may be reversed later."""
    require_staff(actor, "moderate reviews")
    review = Review.objects.select_for_update().get(pk=review.pk)
    target = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    if review.status == target:
        raise Conflict(f"The review is already {target.label.lower()}.")
    reason = (
        ""
        if approve
        else clean_text(reason, field="reason", label="The reason", max_length=REASON_MAX)
    )
    review.status = target
    review.rejection_reason = reason
    review.moderated_by = actor
    review.moderated_at = timezone.now()
    review.save(update_fields=["status", "rejection_reason", "moderated_by", "moderated_at"])
    if approve:
        points_earn_for_event(
            customer=review.customer,
            event_code=REVIEW_EVENT,
            idempotency_key=f"review:{review.pk}",
        )
    return review
