"""Reads on follow-ups: who sees which (the customer's book, plus the ones assigned to
you), the follow-up list by due window, and a customer's follow-ups for the 360 page."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from customers.models import Customer, User
from customers.selectors import customers_visible_to

from ..models import FollowUp

# The follow-up list's due windows: (value, label). "week" is the seven days after today.
WHEN_CHOICES = [
    ("all", "All open"),
    ("overdue", "Overdue"),
    ("today", "Today"),
    ("week", "Next 7 days"),
    ("later", "Later"),
]
WEEK_DAYS = 7


def follow_ups_visible_to(actor: User) -> QuerySet[FollowUp]:
    """Admins see every follow-up; an account manager those on their customers and those
    an admin assigned to them."""
    if not actor.is_authenticated or not actor.is_staff_member:
        return FollowUp.objects.none()
    if actor.is_admin:
        return FollowUp.objects.all()
    return FollowUp.objects.filter(Q(customer__in=customers_visible_to(actor)) | Q(assignee=actor))


def follow_up_get(*, actor: User, pk: int | str) -> FollowUp:
    try:
        return (
            follow_ups_visible_to(actor)
            .select_related("customer", "assignee", "interaction")
            .get(pk=pk)
        )
    except (FollowUp.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such follow-up.") from exc


def _windows(today: dt.date) -> dict[str, Q]:
    week_end = today + dt.timedelta(days=WEEK_DAYS)
    return {
        "all": Q(),
        "overdue": Q(due_on__lt=today),
        "today": Q(due_on=today),
        "week": Q(due_on__gt=today, due_on__lte=week_end),
        "later": Q(due_on__gt=week_end),
    }


def open_follow_ups(
    *, actor: User, assignee: User | None, when: str = "all", today: dt.date | None = None
) -> QuerySet[FollowUp]:
    """Open follow-ups in one due window, earliest first. An account manager's list is
    what is assigned to them; an admin's is one person's (`assignee`) or everyone's (None)."""
    qs = follow_ups_visible_to(actor).filter(done_at__isnull=True)
    if not actor.is_admin:
        assignee = actor
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    window = _windows(today or timezone.localdate()).get(when, Q())
    return (
        qs.filter(window)
        .select_related("customer", "assignee", "interaction")
        .order_by("due_on", "id")
    )


def follow_up_counts(
    *, actor: User, assignee: User | None, today: dt.date | None = None
) -> dict[str, int]:
    """How many open follow-ups in each due window (one query)."""
    qs = open_follow_ups(actor=actor, assignee=assignee, today=today).order_by()
    windows = _windows(today or timezone.localdate())
    return qs.aggregate(
        **{
            key: Count("id", filter=q) if key != "all" else Count("id")
            for key, q in windows.items()
        }
    )


def customer_follow_ups(*, customer: Customer, done_limit: int = 5) -> dict:
    """A customer's open follow-ups (all of them, however far out) and the last few done."""
    qs = customer.follow_ups.select_related("assignee", "done_by")
    return {
        "open": list(qs.filter(done_at__isnull=True).order_by("due_on", "id")),
        "done": list(qs.filter(done_at__isnull=False).order_by("-done_at", "-id")[:done_limit]),
    }


def follow_ups_due_now(*, user: User, today: dt.date | None = None) -> int:
    """The menu badge: open follow-ups assigned to the user, overdue or due today. What is
    assigned to someone is theirs to see, so no book filter: one probe of the open
    follow-ups' (assignee, due_on) index (the windowed counts took 160 ms on every staff
    page of the bench book)."""
    return FollowUp.objects.filter(
        assignee=user, done_at__isnull=True, due_on__lte=today or timezone.localdate()
    ).count()
