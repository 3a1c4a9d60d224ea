"""Staff accounts: invitations, deactivation, handing a book over.

People's rows are locked FOR NO KEY UPDATE: every write that names a person (an
assignment's manager and changed_by, a staff event, an audit entry's actor) takes a KEY
SHARE lock on their row for its foreign key, which FOR UPDATE blocks. A reassignment by an
admin and a deactivation by the same admin, each holding one person's row, deadlocked that
way (tests/concurrency/test_staff_concurrency.py)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ..errors import Conflict, NotAllowed, ValidationFailed
from ..models import (
    AccountManagerAssignment,
    Customer,
    Role,
    StaffEvent,
    StaffEventKind,
    User,
)

logger = logging.getLogger(__name__)
# --- Staff accounts: invitations, deactivation, handing a book over ----------------------

STAFF_ROLES = (Role.ACCOUNT_MANAGER, Role.ADMIN)
NAME_MAX = 150  # User.first_name / last_name


def _check_admin(actor: User, doing: str) -> None:
    if not actor.is_admin:
        raise NotAllowed(f"Only an admin can {doing}.")


def staff_invite_is_open(user: User) -> bool:
    """An invitation is open while the account is inactive and its last event is the
    invitation (a deactivated account is not re-opened by an old link)."""
    if user.is_active:
        return False
    last = StaffEvent.objects.filter(user=user).order_by("-at", "-id").first()
    return last is not None and last.kind == StaffEventKind.INVITED


@dataclass(frozen=True)
class Invitation:
    user: User
    mailed: bool  # False: the account exists, the mail did not leave; send it again


def staff_invite(
    *,
    actor: User,
    email: str,
    role: str,
    base_url: str,
    first_name: str = "",
    last_name: str = "",
) -> Invitation:
    """Create an inactive staff account for `email` and mail it a link to set a password
    (Django's password-reset token, so the link stops working once used). The account is
    created in its own transaction; the mail leaves after it commits."""
    _check_admin(actor, "invite staff")
    email = (email or "").strip().lower()
    if not email:
        raise ValidationFailed("Give the e-mail address to invite.", field="email")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationFailed(f"{email!r} is not an e-mail address.", field="email") from exc
    if len(email) > NAME_MAX:
        raise ValidationFailed(
            f"An e-mail address here has at most {NAME_MAX} characters.", field="email"
        )
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"Staff are account managers or admins, not {role!r}.", field="role")
    names = {"first_name": (first_name or "").strip(), "last_name": (last_name or "").strip()}
    for field, value in names.items():
        if len(value) > NAME_MAX:
            raise ValidationFailed(f"At most {NAME_MAX} characters.", field=field)
    taken = Q(email__iexact=email) | Q(username__iexact=email)
    try:
        with transaction.atomic():
            if User.objects.filter(taken).exists():
                raise Conflict(f"{email} already has an account.", field="email")
            user = User(username=email, email=email, role=role, is_active=False, **names)
            user.set_unusable_password()
            user.save()
            StaffEvent.objects.create(user=user, kind=StaffEventKind.INVITED, actor=actor)
    except IntegrityError as exc:  # the same address invited twice at once
        raise Conflict(f"{email} already has an account.", field="email") from exc
    return Invitation(user=user, mailed=_send_invitation(user=user, actor=actor, base_url=base_url))


def staff_invite_resend(*, actor: User, user: User, base_url: str) -> bool:
    """Mail an open invitation's link again (a new token; earlier links keep working
    until one of them is used or they expire)."""
    _check_admin(actor, "invite staff")
    if not staff_invite_is_open(user):
        raise Conflict(f"{user} has no open invitation.")
    return _send_invitation(user=user, actor=actor, base_url=base_url)


def invitation_link(*, user: User, base_url: str) -> str:
    path = reverse(
        "staff-invite-accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def _send_invitation(*, user: User, actor: User, base_url: str) -> bool:
    context = {
        "user": user,
        "invited_by": actor,
        "role": user.get_role_display(),
        "link": invitation_link(user=user, base_url=base_url),
    }
    # Rendered and sent as PasswordResetForm.send_mail does, but a failure is reported
    # (that method logs and swallows it), so the admin learns the mail did not leave.
    subject = "".join(
        render_to_string("customers/email/staff_invite_subject.txt", context).splitlines()
    )
    body = render_to_string("customers/email/staff_invite.txt", context)
    try:
        EmailMessage(subject, body, None, [user.email]).send()
    except (smtplib.SMTPException, OSError):
        logger.exception("The invitation mail to %s did not leave", user.email)
        return False
    return True


@transaction.atomic
def staff_invite_accept(*, user: User, password: str) -> User:
    """The invited person chose a password: the account becomes active."""
    locked = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if not staff_invite_is_open(locked):
        raise Conflict("This invitation is no longer open; ask an admin for a new one.")
    locked.set_password(password)
    locked.is_active = True
    locked.save(update_fields=["password", "is_active"])
    StaffEvent.objects.create(user=locked, kind=StaffEventKind.JOINED, actor=locked)
    return locked


def check_not_last_admin(*, user: User, role: str, is_active: bool) -> None:
    """Refuse a change that leaves no active admin (the Django admin's user form asks too)."""
    was_admin = user.pk is not None and user.role == Role.ADMIN and user.is_active
    if not was_admin or (role == Role.ADMIN and is_active):
        return
    others = User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk)
    if not others.exists():
        raise Conflict(
            f"{user} is the last active admin; make someone else an admin first.",
            field="is_active",
        )


@transaction.atomic
def staff_deactivate(*, actor: User, user: User) -> User:
    """Stop a staff account (or withdraw an open invitation). Refused for yourself, for
    the last active admin, and while the person still manages customers."""
    _check_admin(actor, "deactivate staff")
    # Every active admin is locked, in pk order: two admins deactivating each other at the
    # same moment are served one after the other, and the second finds the last admin.
    admins = list(
        User.objects.select_for_update(no_key=True)
        .filter(role=Role.ADMIN, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if actor.pk not in admins:
        raise NotAllowed("Only an admin can deactivate staff.")
    locked = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if locked.role not in STAFF_ROLES:
        raise ValidationFailed(f"{locked} is not a staff member.", field="user")
    invited = staff_invite_is_open(locked)
    if not locked.is_active and not invited:
        raise Conflict(f"{locked} is already deactivated.", field="user")
    check_not_last_admin(user=locked, role=locked.role, is_active=False)
    if locked.pk == actor.pk:
        raise Conflict("You cannot deactivate yourself; ask another admin.", field="user")
    # The user row is locked, so no reassignment can hand them a customer meanwhile.
    book = Customer.objects.filter(account_manager=locked).count()
    if book:
        raise Conflict(
            f"{locked} still manages {book:,} customer{'s' if book != 1 else ''}; "
            "hand their book to another account manager first.",
            field="user",
            extra={"book_size": book},
        )
    locked.is_active = False
    if invited:
        locked.set_unusable_password()  # the invitation's links stop working
    locked.save(update_fields=["is_active", "password"])
    StaffEvent.objects.create(user=locked, kind=StaffEventKind.DEACTIVATED, actor=actor)
    user.is_active = False
    return locked


@transaction.atomic
def book_reassign(*, actor: User, from_manager: User, to_manager: User, reason: str) -> int:
    """Hand every customer of one manager to another in one step, each with its
    assignment row (the history reads as if each had been reassigned by hand). Returns
    how many customers moved."""
    _check_admin(actor, "reassign customers")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the book changes hands.", field="reason")
    if from_manager.pk == to_manager.pk:
        raise ValidationFailed(
            "Choose another account manager to hand over to.", field="to_manager"
        )
    # Both people locked in pk order: a deactivation of the receiver waits for this, or
    # this sees it.
    people = {
        u.pk: u
        for u in User.objects.select_for_update(no_key=True)
        .filter(pk__in=[from_manager.pk, to_manager.pk])
        .order_by("pk")
    }
    target = people[to_manager.pk]
    if target.role != Role.ACCOUNT_MANAGER or not target.is_active:
        raise ValidationFailed(f"{target} is not an active account manager.", field="to_manager")
    ids = list(
        Customer.objects.select_for_update()
        .filter(account_manager_id=from_manager.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise ValidationFailed(
            f"{from_manager} has no customers to hand over.", field="from_manager"
        )
    now = timezone.now()
    AccountManagerAssignment.objects.filter(
        customer__account_manager_id=from_manager.pk, ended_at__isnull=True
    ).update(ended_at=now)
    AccountManagerAssignment.objects.bulk_create(
        [
            AccountManagerAssignment(
                customer_id=pk,
                account_manager=target,
                started_at=now,
                reason=reason[:300],
                changed_by=actor,
            )
            for pk in ids
        ],
        batch_size=500,
    )
    Customer.objects.filter(account_manager_id=from_manager.pk).update(
        account_manager=target, updated_at=now
    )
    return len(ids)
