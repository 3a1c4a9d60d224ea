"""Who sees which reviews: staff all of them; a customer the approved ones plus their own
customer's (pending or rejected, with the reason); nobody else's pending or rejected."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404

from customers.models import Customer, Purchase, User
from customers.selectors import customer_of_user

from ..models import Review, ReviewStatus


def reviews_visible_to(actor: User) -> QuerySet[Review]:
    qs = Review.objects.all()
    if not actor.is_authenticated or not actor.is_active:
        return qs.none()
    if actor.is_staff_member:
        return qs
    own = customer_of_user(user=actor)
    approved = Q(status=ReviewStatus.APPROVED)
    return qs.filter(approved | Q(customer=own)) if own else qs.filter(approved)


def review_get(*, actor: User, pk: Any) -> Review:
    try:
        return reviews_visible_to(actor).select_related("customer", "author").get(pk=pk)
    except (Review.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such review.") from exc


def published_reviews(*, actor: User, product: str = "") -> QuerySet[Review]:
    """Approved reviews, newest first, optionally of one product."""
    qs = reviews_visible_to(actor).filter(status=ReviewStatus.APPROVED)
    if product:
        qs = qs.filter(product__iexact=product)
    return qs.select_related("customer")


def product_ratings(*, actor: User) -> list[dict]:
    """Per product with approved reviews: average rating and count, best rated first."""
    return list(
        reviews_visible_to(actor)
        .filter(status=ReviewStatus.APPROVED)
        .values("product")
        .annotate(n=Count("id"), average=Avg("rating"))
        .order_by("-average", "-n", "product")
    )


def my_reviews(*, customer: Customer) -> QuerySet[Review]:
    return Review.objects.filter(customer=customer).order_by("-created_at", "-id")


def reviewable_products(*, customer: Customer) -> list[str]:
    """Products the customer bought and has not reviewed yet, by name (two queries; the
    same product spelt in two cases is one product)."""
    seen = {
        p.lower()
        for p in Review.objects.filter(customer=customer).values_list("product", flat=True)
    }
    names = (
        Purchase.objects.filter(customer=customer)
        .exclude(product="")
        .values_list("product", flat=True)
        .distinct()
        .order_by("product")
    )
    products = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            products.append(name)
    return products


def review_queue(*, actor: User, status: str = ReviewStatus.PENDING) -> QuerySet[Review]:
    """Staff's moderation queue, oldest first so nobody waits longest."""
    if not (actor.is_authenticated and actor.is_staff_member):
        return Review.objects.none()
    qs = Review.objects.select_related("customer", "author", "moderated_by")
    if status in ReviewStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")
