"""Who may see which support request: the one place pages and API ask.

- A customer: their own requests, looked up *within* their record (another's id is a 404),
  and never the staff's internal notes.
- Staff: requests of customers in their book (customers_visible_to), those assigned to
  them, and the unassigned queue (an admin routes it, a manager may take it)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from customers.models import Customer, User
from customers.selectors import customers_visible_to

from .models import Status, SupportMessage, SupportRequest

QUEUES = {
    "open": "Open",
    "waiting": "Waiting on customer",
    "resolved": "Resolved",
}
SCOPES = {"mine": "Mine", "unassigned": "Unassigned", "all": "All I can see"}


def _base() -> QuerySet[SupportRequest]:
    return SupportRequest.objects.select_related(
        "customer", "assigned_to", "interaction", "interaction__root_cause"
    )


def portal_support_requests(*, customer: Customer) -> QuerySet[SupportRequest]:
    return _base().filter(customer=customer)


def _thread(qs: QuerySet[SupportRequest], *, internal: bool) -> QuerySet[SupportRequest]:
    messages = SupportMessage.objects.select_related("author")
    if not internal:
        messages = messages.filter(internal=False)
    return qs.prefetch_related(Prefetch("messages", queryset=messages))


def portal_support_request(*, customer: Customer, pk: int) -> SupportRequest:
    try:
        return _thread(portal_support_requests(customer=customer), internal=False).get(pk=pk)
    except SupportRequest.DoesNotExist:
        raise Http404("No such support request.") from None


def portal_attachment(*, customer: Customer, request_pk: int, pk: int) -> SupportMessage:
    message = (
        SupportMessage.objects.filter(
            request__customer=customer, request_id=request_pk, internal=False, pk=pk
        )
        .exclude(attachment="")
        .first()
    )
    if message is None:
        raise Http404("No such attachment.")
    return message


def support_requests_visible_to(actor: User) -> QuerySet[SupportRequest]:
    if not actor.is_authenticated or not actor.is_staff_member:
        return SupportRequest.objects.none()
    if actor.is_admin:
        return _base()
    return _base().filter(
        Q(customer__in=customers_visible_to(actor))
        | Q(assigned_to=actor)
        | Q(assigned_to__isnull=True)
    )


def support_queue(
    *, actor: User, status: str = "open", scope: str = "all"
) -> QuerySet[SupportRequest]:
    qs = support_requests_visible_to(actor)
    if status in QUEUES:
        qs = qs.filter(status=status)
    if scope == "mine":
        qs = qs.filter(assigned_to=actor)
    elif scope == "unassigned":
        qs = qs.filter(assigned_to__isnull=True)
    return qs


def support_queue_counts(*, actor: User) -> dict[str, int]:
    rows = support_requests_visible_to(actor).values("status").annotate(n=Count("id"))
    counts = dict.fromkeys(QUEUES, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def staff_support_request(*, actor: User, pk: int) -> SupportRequest:
    try:
        return _thread(support_requests_visible_to(actor), internal=True).get(pk=pk)
    except SupportRequest.DoesNotExist:
        raise Http404("No such support request.") from None


def staff_attachment(*, actor: User, request_pk: int, pk: int) -> SupportMessage:
    request = staff_support_request(actor=actor, pk=request_pk)
    message = request.messages.exclude(attachment="").filter(pk=pk).first()
    if message is None:
        raise Http404("No such attachment.")
    return message


def open_requests_of(*, customer: Customer) -> QuerySet[SupportRequest]:
    return portal_support_requests(customer=customer).exclude(status=Status.RESOLVED)


def support_export(*, customer: Customer) -> list[dict[str, Any]]:
    """The customer's support requests for their data export: what they and staff wrote to
    each other, with the files' names (staff's internal notes stay out, as on the pages)."""
    requests = _thread(portal_support_requests(customer=customer), internal=False).order_by(
        "created_at", "id"
    )
    return [
        {
            "subject": r.subject,
            "category": r.category,
            "status": r.status,
            "opened_at": r.created_at,
            "resolved_at": r.resolved_at,
            "rating": r.rating,
            "rating_comment": r.rating_comment,
            "messages": [
                {
                    "at": m.created_at,
                    "from": "staff" if m.from_staff else "you",
                    "text": m.body,
                    "attachment": m.attachment_name or None,
                }
                for m in r.messages.all()
            ],
        }
        for r in requests
    ]
