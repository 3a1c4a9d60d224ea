"""Reads, and the one place that decides which customers a user may see."""

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from .filters import CustomerFilter
from .models import (
    AccountManagerAssignment,
    Customer,
    Purchase,
    Role,
    Segment,
    StageChange,
    Tag,
    User,
)


def customers_visible_to(actor: User) -> QuerySet[Customer]:
    """Admins see the whole book; an account manager sees the customers assigned to them;
    everyone else sees none (the portal reaches its own record through `customer_of_user`)."""
    qs = Customer.objects.all()
    if not actor.is_authenticated or not actor.is_active:
        return qs.none()
    if actor.is_admin:
        return qs
    if actor.is_account_manager:
        return qs.filter(account_manager=actor)
    return qs.none()


def customer_filterset(*, actor: User, data: Mapping[str, Any] | None) -> CustomerFilter:
    qs = customers_visible_to(actor).select_related("segment", "account_manager")
    return CustomerFilter(data=data or None, queryset=qs, actor=actor)


def customer_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Customer]:
    return customer_filterset(actor=actor, data=filters).qs


def customer_get(*, actor: User, pk: int) -> Customer:
    """A customer outside the actor's book is a 404, not a 403: we do not confirm it exists."""
    try:
        return (
            customers_visible_to(actor)
            .select_related("segment", "account_manager", "user")
            .prefetch_related("tags")
            .get(pk=pk)
        )
    except (Customer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such customer.") from exc


def customer_of_user(*, user: User) -> Customer | None:
    if not user.is_authenticated or user.role != Role.CUSTOMER:
        return None
    return Customer.objects.filter(user=user).first()


def purchases_visible_to(actor: User) -> QuerySet[Purchase]:
    return Purchase.objects.filter(customer__in=customers_visible_to(actor))


def assignments_visible_to(actor: User) -> QuerySet[AccountManagerAssignment]:
    return AccountManagerAssignment.objects.filter(
        customer__in=customers_visible_to(actor)
    ).select_related("customer", "account_manager", "changed_by")


def customer_recent_purchases(*, customer: Customer, limit: int = 50, before=None) -> list[Purchase]:
    qs = customer.purchases.all()
    if before is not None:
        qs = qs.filter(occurred_at__lt=before)
    return list(qs.order_by("-occurred_at", "-id")[:limit])


def customer_assignment_history(*, customer: Customer) -> QuerySet[AccountManagerAssignment]:
    return customer.assignments.select_related("account_manager", "changed_by").order_by(
        "-started_at", "-id"
    )


def customer_stage_history(*, customer: Customer, limit: int = 10) -> list[StageChange]:
    return list(customer.stage_changes.select_related("changed_by")[:limit])


def account_managers() -> QuerySet[User]:
    return User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def segments() -> QuerySet[Segment]:
    return Segment.objects.order_by("name")


def tag_names(*, limit: int = 200) -> list[str]:
    """Tag names for the search box's suggestions."""
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:limit])
