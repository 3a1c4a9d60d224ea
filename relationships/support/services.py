"""Writes on support requests, one transaction each. Opening one logs the interaction
(kind support, or complaint for category complaint) that puts it on the customer's
timeline; a complaint's root cause is set by staff (relationships.services), and from
then on the defection analysis counts it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from customers.errors import NotAllowed, TooMany, ValidationFailed
from customers.models import Customer, User
from relationships.models import Channel, DefectionReason, Interaction, InteractionKind
from relationships.services import complaint_root_cause_set

from .attachments import check_attachment
from .models import Category, Status, SupportMessage, SupportRequest
from .selectors import support_requests_visible_to

MAX_BODY = 10_000
OPEN_WINDOW = dt.timedelta(hours=24)


def _clean_body(body: str, *, field: str = "body") -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Write your message.", field=field)
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            f"Keep the message under {MAX_BODY:,} characters; attach a file for more.",
            field=field,
        )
    return body


def _message(
    *,
    request: SupportRequest,
    author: User,
    body: str,
    attachment: UploadedFile | None,
    from_staff: bool,
    internal: bool = False,
) -> SupportMessage:
    message = SupportMessage(
        request=request, author=author, body=body, from_staff=from_staff, internal=internal
    )
    if attachment is not None:
        checked = check_attachment(attachment)
        message.attachment_name = checked.name
        message.attachment_type = checked.content_type
        message.attachment_size = checked.size
        message.attachment.save(checked.name, attachment, save=False)
    message.save()
    return message


def _check_open_limit(customer: Customer, now: dt.datetime) -> None:
    """At most CRM_SUPPORT_OPEN_PER_DAY requests opened in the last 24 hours (0: no limit).
    The customer's row is locked first, so requests opened at the same moment count each
    other instead of all seeing room; the count reads the (customer, created_at) index."""
    limit = int(settings.CRM_SUPPORT_OPEN_PER_DAY)
    if not limit:
        return
    Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).first()
    window = SupportRequest.objects.filter(customer=customer, created_at__gt=now - OPEN_WINDOW)
    opened = window.count()
    if opened < limit:
        return
    # A slot frees up when enough of the window's oldest requests are 24 hours old.
    freeing = window.order_by("created_at").values_list("created_at", flat=True)[opened - limit]
    retry_after = max(int((freeing + OPEN_WINDOW - now).total_seconds()) + 1, 1)
    raise TooMany(
        f"You have opened {opened} requests in the last 24 hours; please add to an open "
        "one, or try again later.",
        retry_after=retry_after,
    )


def _mail(subject: str, body: str, address: str) -> None:
    if address:
        # After the commit: a rolled-back reply sends nothing.
        transaction.on_commit(lambda: send_mail(subject, body, None, [address], fail_silently=True))


@transaction.atomic
def support_request_open(
    *,
    customer: Customer,
    author: User,
    category: str,
    subject: str,
    body: str,
    attachment: UploadedFile | None = None,
) -> SupportRequest:
    """A customer asks for help. Routed to their account manager, or to the queue when
    they have none. Refused (TooMany) past CRM_SUPPORT_OPEN_PER_DAY in 24 hours."""
    if author.is_staff_member or customer.user_id != author.pk:
        raise NotAllowed("Only the customer opens a support request here.")
    if category not in Category.values:
        raise ValidationFailed("Choose what your request is about.", field="category")
    subject = (subject or "").strip()
    if not subject:
        raise ValidationFailed("Say in a few words what it is about.", field="subject")
    if len(subject) > 200:
        raise ValidationFailed("Keep the subject under 200 characters.", field="subject")
    body = _clean_body(body)
    if attachment is not None:
        check_attachment(attachment)  # refuse before anything is written
    now = timezone.now()
    _check_open_limit(customer, now)
    kind = InteractionKind.COMPLAINT if category == Category.COMPLAINT else InteractionKind.SUPPORT
    interaction = Interaction.objects.create(
        customer=customer,
        author=author,
        channel=Channel.PORTAL,
        kind=kind,
        subject=subject,
        notes=body,
        occurred_at=now,
        created_at=now,
    )
    manager = customer.account_manager if customer.account_manager_id else None
    request = SupportRequest.objects.create(
        customer=customer,
        interaction=interaction,
        category=category,
        subject=subject,
        assigned_to=manager if manager and manager.is_staff_member else None,
        created_at=now,
        updated_at=now,
    )
    _message(request=request, author=author, body=body, attachment=attachment, from_staff=False)
    if request.assigned_to is not None:
        _mail(
            f"New support request from {customer}: {subject}",
            f"{customer} opened a support request ({request.get_category_display()}):\n\n"
            f"{body}\n\nAnswer it at {reverse('support-detail', args=[request.pk])}",
            request.assigned_to.email,
        )
    return request


def _locked(request: SupportRequest) -> SupportRequest:
    return SupportRequest.objects.select_for_update().select_related("customer").get(pk=request.pk)


@transaction.atomic
def support_customer_reply(
    *, request: SupportRequest, author: User, body: str, attachment: UploadedFile | None = None
) -> SupportMessage:
    """The customer adds to the thread; a resolved request must be reopened first."""
    locked = _locked(request)
    if locked.customer.user_id != author.pk:
        raise NotAllowed("Only the customer replies here.")
    if locked.status == Status.RESOLVED:
        raise ValidationFailed(
            "This request is resolved; reopen it to write again.", field="status"
        )
    body = _clean_body(body)
    message = _message(
        request=locked, author=author, body=body, attachment=attachment, from_staff=False
    )
    locked.status = Status.OPEN
    locked.updated_at = timezone.now()
    locked.save(update_fields=["status", "updated_at"])
    return message


@transaction.atomic
def support_reopen(*, request: SupportRequest, author: User, body: str = "") -> SupportRequest:
    locked = _locked(request)
    if locked.customer.user_id != author.pk:
        raise NotAllowed("Only the customer reopens a request.")
    if locked.status == Status.OPEN:
        raise ValidationFailed("This request is already open.", field="status")
    if body.strip():
        _message(
            request=locked, author=author, body=_clean_body(body), attachment=None, from_staff=False
        )
    locked.status = Status.OPEN
    locked.resolved_at = None
    locked.updated_at = timezone.now()
    locked.save(update_fields=["status", "resolved_at", "updated_at"])
    return locked


@transaction.atomic
def support_rate(
    *, request: SupportRequest, author: User, rating: int, comment: str = ""
) -> SupportRequest:
    locked = _locked(request)
    if locked.customer.user_id != author.pk:
        raise NotAllowed("Only the customer rates the answer.")
    if locked.status != Status.RESOLVED:
        raise ValidationFailed("You can rate the answer once the request is resolved.")
    if locked.rating is not None:
        raise ValidationFailed("You have already rated this answer. Thank you!", field="rating")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("Choose a rating from 1 to 5.", field="rating")
    locked.rating = rating
    locked.rating_comment = (comment or "").strip()[:2000]
    locked.save(update_fields=["rating", "rating_comment"])
    return locked


def _staff_locked(*, actor: User, request: SupportRequest) -> SupportRequest:
    if not actor.is_staff_member:
        raise NotAllowed("Only staff answer support requests.")
    if not support_requests_visible_to(actor).filter(pk=request.pk).exists():
        raise NotAllowed("This request is not in your book.")
    return _locked(request)


@transaction.atomic
def support_staff_reply(
    *,
    request: SupportRequest,
    actor: User,
    body: str,
    internal: bool = False,
    attachment: UploadedFile | None = None,
) -> SupportMessage:
    """Staff answer (the customer is told by e-mail and the request waits on them) or
    leave an internal note (the customer sees nothing)."""
    locked = _staff_locked(actor=actor, request=request)
    body = _clean_body(body)
    message = _message(
        request=locked,
        author=actor,
        body=body,
        attachment=attachment,
        from_staff=True,
        internal=internal,
    )
    if not internal:
        if locked.assigned_to_id is None and actor.is_account_manager:
            locked.assigned_to = actor
        if locked.status == Status.OPEN:
            locked.status = Status.WAITING
        locked.updated_at = timezone.now()
        locked.save(update_fields=["assigned_to", "status", "updated_at"])
        _mail(
            f"Reply to your support request: {locked.subject}",
            f"{actor.get_full_name() or actor} replied:\n\n{body}\n\n"
            f"Read it and answer at {reverse('portal-support-detail', args=[locked.pk])}",
            locked.customer.email,
        )
    return message


@transaction.atomic
def support_status_set(*, request: SupportRequest, actor: User, status: str) -> SupportRequest:
    locked = _staff_locked(actor=actor, request=request)
    if status not in Status.values:
        raise ValidationFailed(
            f"Unknown status {status!r}; choose open, waiting or resolved.", field="status"
        )
    locked.status = status
    locked.resolved_at = timezone.now() if status == Status.RESOLVED else None
    locked.updated_at = timezone.now()
    locked.save(update_fields=["status", "resolved_at", "updated_at"])
    return locked


@transaction.atomic
def support_take(*, request: SupportRequest, actor: User) -> SupportRequest:
    """A manager takes an unassigned request (admins may take any)."""
    locked = _staff_locked(actor=actor, request=request)
    if locked.assigned_to_id is not None and not actor.is_admin:
        if locked.assigned_to_id == actor.pk:
            return locked
        raise ValidationFailed(f"{locked.assigned_to} already handles this request.")
    locked.assigned_to = actor
    locked.save(update_fields=["assigned_to"])
    return locked


@transaction.atomic
def support_root_cause_set(
    *, request: SupportRequest, actor: User, root_cause: DefectionReason | None
) -> SupportRequest:
    """Classify the complaint behind a request (the interaction carries the cause, which
    the defection analysis counts)."""
    locked = _staff_locked(actor=actor, request=request)
    if not locked.is_complaint:
        raise ValidationFailed("Only a complaint has a root cause.", field="root_cause")
    complaint_root_cause_set(actor=actor, interaction=locked.interaction, root_cause=root_cause)
    return locked
