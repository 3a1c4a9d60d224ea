"""Writes with a business rule: one transaction per use case, domain errors on refusal."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .errors import Conflict, DuplicateEmail, NotAllowed, ValidationFailed
from .formatting import counted
from .hooks import notify_purchase_recorded
from .models import (
    AccountManagerAssignment,
    ConsentChange,
    ConsentSource,
    Customer,
    CustomerKind,
    CustomerStatus,
    DeletionRequest,
    DeletionStatus,
    Purchase,
    Role,
    Segment,
    StaffEvent,
    StaffEventKind,
    Stage,
    StageChange,
    Tag,
    User,
)
from .selectors import customer_is_visible_to

logger = logging.getLogger(__name__)


def _check_staff(actor: User) -> None:
    if not actor.is_staff_member:
        raise NotAllowed("Only staff may change customer records.")


def check_account_manager(account_manager: User | None) -> None:
    """Refuse anyone but an active account manager (None, nobody, is allowed)."""
    if account_manager is not None and (
        account_manager.role != Role.ACCOUNT_MANAGER or not account_manager.is_active
    ):
        raise ValidationFailed(
            f"{account_manager} is not an active account manager.", field="account_manager"
        )


# A defection needs its reason (relationships records it); a status field alone cannot
# say why, so no edit, API call or import row turns a customer defected by itself.
MARK_DEFECTED_HINT = (
    "A customer becomes defected through “Mark defected” on their page (API: POST "
    "/api/v1/defections/), which records why they left."
)


def check_status_change(*, current: str | None, new: str) -> None:
    """Refuse turning a customer defected through a plain field change. Keeping an
    already defected customer defected (an edit of their name, say) is fine."""
    if new == CustomerStatus.DEFECTED and current != CustomerStatus.DEFECTED:
        raise ValidationFailed(MARK_DEFECTED_HINT, field="status")


def validate_customer_fields(fields: dict[str, Any]) -> None:
    """The rules on a customer's own fields, for whichever of them `fields` holds. Unknown
    names are refused: the services write Customer.EDITABLE_FIELDS and no others."""
    unknown = set(fields) - set(Customer.EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown customer fields: {', '.join(sorted(unknown))}.")
    if "name" in fields and not (fields["name"] or "").strip():
        raise ValidationFailed("A customer needs a name.", field="name")
    if "kind" in fields and fields["kind"] not in CustomerKind.values:
        raise ValidationFailed(f"Unknown kind {fields['kind']!r}.", field="kind")
    if "stage" in fields and fields["stage"] not in Stage.values:
        raise ValidationFailed(f"Unknown ladder stage {fields['stage']!r}.", field="stage")
    if "status" in fields and fields["status"] not in CustomerStatus.values:
        raise ValidationFailed(f"Unknown status {fields['status']!r}.", field="status")


def check_external_id_free(external_id: str, *, customer: Customer | None = None) -> None:
    """The external id is unique when set; say which customer holds it (the database's
    constraint stays the guard against a race)."""
    if not external_id:
        return
    holder = Customer.objects.filter(external_id=external_id)
    if customer is not None:
        holder = holder.exclude(pk=customer.pk)
    if holder.exists():
        raise Conflict(
            f"Another customer already has the external id {external_id}.", field="external_id"
        )


def check_email_new(*, actor: User, email: str) -> None:
    """Refuse, with a link to them, a new customer whose e-mail a customer already has;
    the caller asks the person and passes allow_duplicate_email to save anyway."""
    if not email:
        return
    existing = Customer.objects.filter(email__iexact=email).order_by("pk").first()
    if existing is None:
        return
    if customer_is_visible_to(actor=actor, customer=existing):
        message = (
            f"{existing.name} (customer #{existing.pk}) already has the e-mail {email}. "
            "Open their record, or save anyway if this is someone else."
        )
        existing_id: int | None = existing.pk
    else:
        message = (
            f"A customer in another account manager's book already has the e-mail {email}. "
            "Ask an admin, or save anyway if this is someone else."
        )
        existing_id = None
    raise DuplicateEmail(message, field="email", extra={"existing_customer": existing_id})


def _set_tags(customer: Customer, tag_names: list[str]) -> None:
    names = sorted({n.strip()[:50] for n in tag_names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    customer.tags.set(existing.values())


@transaction.atomic
def customer_create(
    *,
    actor: User,
    name: str,
    account_manager: User | None = None,
    tags: list[str] | None = None,
    allow_duplicate_email: bool = False,
    **fields,
) -> Customer:
    """Create a customer. An account manager creates into their own book; an admin may
    assign anyone. The first assignment is recorded like every later one. An e-mail that
    a customer already has is refused (DuplicateEmail) unless `allow_duplicate_email`."""
    _check_staff(actor)
    fields["name"] = name
    validate_customer_fields(fields)
    check_external_id_free(fields.get("external_id", ""))
    if not allow_duplicate_email:
        check_email_new(actor=actor, email=fields.get("email", ""))
    if "status" in fields:
        check_status_change(current=None, new=fields["status"])
    if actor.is_account_manager:
        if account_manager is not None and account_manager != actor:
            raise NotAllowed("An account manager can only add customers to their own book.")
        account_manager = actor
    check_account_manager(account_manager)
    customer = Customer.objects.create(account_manager=account_manager, **fields)
    if tags:
        _set_tags(customer, tags)
    if account_manager is not None:
        AccountManagerAssignment.objects.create(
            customer=customer,
            account_manager=account_manager,
            reason="Assigned when the customer was created.",
            changed_by=actor,
        )
    return customer


@transaction.atomic
def customer_update(
    *, actor: User, customer: Customer, tags: list[str] | None = None, **fields
) -> Customer:
    _check_staff(actor)
    validate_customer_fields(fields)
    if "status" in fields:
        check_status_change(current=customer.status, new=fields["status"])
    if "external_id" in fields:
        check_external_id_free(fields["external_id"] or "", customer=customer)
    for key, value in fields.items():
        setattr(customer, key, value)
    customer.save()
    if tags is not None:
        _set_tags(customer, tags)
    return customer


@transaction.atomic
def customer_status_defected(*, actor: User, customer: Customer) -> Customer:
    """Set the status to defected: the status half of relationships' defection_record,
    which checks and records why in the same transaction; nothing else calls it. Locks
    the row, so two people marking one customer at once are served one after the other."""
    _check_staff(actor)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.status != CustomerStatus.DEFECTED:
        locked.status = CustomerStatus.DEFECTED
        locked.save(update_fields=["status", "updated_at"])
    customer.status = locked.status
    return locked


@transaction.atomic
def customer_reassign(
    *, actor: User, customer: Customer, account_manager: User | None, reason: str
) -> AccountManagerAssignment | None:
    """Hand a customer to another account manager (admins only), keeping the history."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can reassign customers.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the customer changes hands.", field="reason")
    if account_manager is not None:
        # The receiver's row locked before the customer's (as book_reassign does): a
        # deactivation running meanwhile either waits for this or is seen by it.
        account_manager = User.objects.select_for_update().get(pk=account_manager.pk)
    check_account_manager(account_manager)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.account_manager_id == (account_manager.pk if account_manager else None):
        raise ValidationFailed(
            f"{customer} is already managed by {account_manager or 'nobody'}.",
            field="account_manager",
        )
    now = timezone.now()
    AccountManagerAssignment.objects.filter(customer=locked, ended_at__isnull=True).update(
        ended_at=now
    )
    assignment = AccountManagerAssignment.objects.create(
        customer=locked,
        account_manager=account_manager,
        started_at=now,
        reason=reason[:300],
        changed_by=actor,
    )
    locked.account_manager = account_manager
    locked.save(update_fields=["account_manager", "updated_at"])
    customer.account_manager = account_manager
    return assignment


def clean_purchase_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed("A purchase needs a reference.", field="reference")
    return reference


def clean_purchase_amount(amount: Decimal | str | int) -> Decimal:
    try:
        amount = Decimal(str(amount))
    except ArithmeticError as exc:
        raise ValidationFailed(f"{amount!r} is not an amount.", field="amount") from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed("The amount must be zero or more.", field="amount")
    exponent = amount.as_tuple().exponent  # an int: a finite amount (checked above)
    if not isinstance(exponent, int) or exponent < -2 or abs(amount) >= Decimal("1e12"):
        raise ValidationFailed(
            "The amount must have at most two decimals and twelve digits.", field="amount"
        )
    return amount


def clean_purchase_currency(currency: str) -> str:
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ValidationFailed("The currency must be a three-letter ISO code.", field="currency")
    return currency


def clean_purchase(
    *,
    reference: str,
    amount: Decimal | str | int,
    currency: str,
    occurred_at: dt.datetime,
) -> tuple[str, Decimal, str]:
    """A purchase's reference, amount and currency as stored, or the ValidationFailed that
    names the field; the time must be timezone-aware."""
    reference = clean_purchase_reference(reference)
    amount = clean_purchase_amount(amount)
    currency = clean_purchase_currency(currency)
    if occurred_at is None or timezone.is_naive(occurred_at):
        raise ValidationFailed("The purchase time must include a time zone.", field="occurred_at")
    return reference, amount, currency


def purchase_record(
    *,
    customer: Customer,
    reference: str,
    amount: Decimal | str | int,
    occurred_at: dt.datetime,
    currency: str = "EUR",
    product: str = "",
    category: str = "",
    actor: User | None = None,
) -> Purchase:
    """Record a purchase and let the purchase listeners (loyalty points) react inside the
    same transaction. The same reference twice for one customer is a Conflict."""
    if actor is not None:
        _check_staff(actor)
    reference, amount, currency = clean_purchase(
        reference=reference, amount=amount, currency=currency, occurred_at=occurred_at
    )
    try:
        with transaction.atomic():
            purchase = Purchase.objects.create(
                customer=customer,
                reference=reference,
                amount=amount,
                currency=currency,
                occurred_at=occurred_at,
                product=(product or "")[:200],
                category=(category or "")[:100],
            )
            # A first purchase is the first step up the ladder.
            if Customer.objects.filter(pk=customer.pk, stage=Stage.PROSPECT).update(
                stage=Stage.CUSTOMER, updated_at=timezone.now()
            ):
                StageChange.objects.create(
                    customer=customer,
                    from_stage=Stage.PROSPECT,
                    to_stage=Stage.CUSTOMER,
                    rule="first_purchase",
                    reason=f"First purchase ({reference}).",
                )
                customer.stage = Stage.CUSTOMER
            notify_purchase_recorded(purchase)
    except IntegrityError as exc:
        if Purchase.objects.filter(customer=customer, reference=reference).exists():
            raise Conflict(
                f"Purchase {reference} is already recorded for {customer}.", field="reference"
            ) from exc
        raise
    return purchase


@transaction.atomic
def segment_create(
    *, actor: User, name: str, description: str = "", inactivity_days: int = 365
) -> Segment:
    if not actor.is_admin:
        raise NotAllowed("Only an admin can define segments.")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("A segment needs a name.", field="name")
    if Segment.objects.filter(name__iexact=name).exists():
        raise Conflict(f"A segment called {name} already exists.", field="name")
    return Segment.objects.create(
        name=name, description=description, inactivity_days=inactivity_days
    )


@transaction.atomic
def segment_update(
    *,
    actor: User,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    inactivity_days: int | None = None,
) -> Segment:
    if not actor.is_admin:
        raise NotAllowed("Only an admin can change segments.")
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationFailed("A segment needs a name.", field="name")
        if Segment.objects.filter(name__iexact=name).exclude(pk=segment.pk).exists():
            raise Conflict(f"A segment called {name} already exists.", field="name")
        segment.name = name
    if description is not None:
        segment.description = description
    if inactivity_days is not None:
        if inactivity_days < 1:
            raise ValidationFailed("Inactivity is at least one day.", field="inactivity_days")
        segment.inactivity_days = inactivity_days
    segment.save()
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment: Segment) -> None:
    """Only an empty segment goes: customers are never left pointing at nothing."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can delete segments.")
    count = Customer.objects.filter(segment=segment).count()
    if count:
        raise Conflict(
            f"{counted(count, 'customer')} {'is' if count == 1 else 'are'} still in {segment}; "
            "move them to another segment first."
        )
    try:
        # Other apps may point at a segment too (a loyalty offer aimed at it): say so.
        with transaction.atomic():
            segment.delete()
    except (ProtectedError, RestrictedError) as exc:
        blocking = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        users = sorted({str(obj._meta.verbose_name_plural) for obj in blocking})
        raise Conflict(
            f"{segment} is still used by {', '.join(users)}; change those first."
        ) from exc


# ---------------------------------------------------------------- the customer's own record


def _check_self(actor: User, customer: Customer) -> None:
    """Portal writes: only the login linked to this very record."""
    if not (actor.is_authenticated and actor.is_active and customer.user_id == actor.pk):
        raise NotAllowed("You can only change your own account.")


@transaction.atomic
def customer_profile_update(*, actor: User, customer: Customer, **fields: Any) -> Customer:
    """A customer edits their contact details (Customer.SELF_EDITABLE_FIELDS only)."""
    _check_self(actor, customer)
    unknown = set(fields) - set(Customer.SELF_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"You cannot change: {', '.join(sorted(unknown))}.")
    if "name" in fields and not (fields["name"] or "").strip():
        raise ValidationFailed("Please give your name.", field="name")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    for key, value in fields.items():
        setattr(locked, key, value.strip() if isinstance(value, str) else value)
    locked.save(update_fields=[*fields, "updated_at"])
    return locked


@transaction.atomic
def customer_preferences_set(
    *,
    actor: User,
    customer: Customer,
    newsletter: bool,
    source: str = ConsentSource.PORTAL,
    **channels: bool,
) -> Customer:
    """Set the channels a customer may be contacted on and their newsletter consent. A
    change of consent is stamped with its moment and kept as a ConsentChange row."""
    _check_self(actor, customer)
    unknown = set(channels) - set(Customer.CHANNEL_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown channels: {', '.join(sorted(unknown))}.")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    for key, value in channels.items():
        setattr(locked, key, bool(value))
    changed = ["updated_at", *channels]
    if bool(newsletter) != locked.newsletter_consent:
        now = timezone.now()
        locked.newsletter_consent = bool(newsletter)
        locked.newsletter_consent_at = now
        changed += ["newsletter_consent", "newsletter_consent_at"]
        ConsentChange.objects.create(
            customer=locked,
            newsletter=bool(newsletter),
            changed_at=now,
            changed_by=actor,
            source=source,
        )
    locked.save(update_fields=changed)
    return locked


@transaction.atomic
def deletion_request_create(
    *, actor: User, customer: Customer, reason: str = ""
) -> DeletionRequest:
    """The customer asks for their account to be deleted; staff confirm it later."""
    _check_self(actor, customer)
    Customer.objects.select_for_update().get(pk=customer.pk)  # one request at a time
    if DeletionRequest.objects.filter(customer=customer, status=DeletionStatus.PENDING).exists():
        raise Conflict("You have already asked for your account to be deleted.")
    return DeletionRequest.objects.create(
        customer=customer, requested_by=actor, reason=(reason or "").strip()[:2000]
    )


def _decide(request: DeletionRequest, status: str, actor: User, note: str) -> DeletionRequest:
    locked = DeletionRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != DeletionStatus.PENDING:
        raise Conflict(f"This request is already {locked.get_status_display().lower()}.")
    locked.status = status
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.decision_note = (note or "").strip()[:500]
    locked.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    return locked


@transaction.atomic
def deletion_request_withdraw(*, actor: User, request: DeletionRequest) -> DeletionRequest:
    _check_self(actor, request.customer)
    return _decide(request, DeletionStatus.WITHDRAWN, actor, "Withdrawn by the customer.")


@transaction.atomic
def deletion_request_refuse(*, actor: User, request: DeletionRequest, note: str) -> DeletionRequest:
    if not actor.is_admin:
        raise NotAllowed("Only an admin may decide on a deletion request.")
    if not (note or "").strip():
        raise ValidationFailed("Say why the request is refused.", field="note")
    return _decide(request, DeletionStatus.REFUSED, actor, note)


@transaction.atomic
def deletion_request_complete(
    *, actor: User, request: DeletionRequest, note: str = ""
) -> DeletionRequest:
    """Anonymise the customer and close their login. Purchases, loyalty and community rows
    keep pointing at the (now anonymous) record, so the books and totals still add up."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin may decide on a deletion request.")
    done = _decide(request, DeletionStatus.COMPLETED, actor, note)
    customer = Customer.objects.select_for_update().get(pk=request.customer_id)
    login = customer.user
    customer.name = f"Deleted customer {customer.pk}"
    for name in ("email", "phone", "company", "address"):
        setattr(customer, name, "")
    for name in Customer.CHANNEL_FIELDS:
        setattr(customer, name, False)
    if customer.newsletter_consent:
        ConsentChange.objects.create(
            customer=customer, newsletter=False, changed_by=actor, source=ConsentSource.DELETION
        )
    customer.newsletter_consent = False
    customer.newsletter_consent_at = timezone.now()
    customer.user = None
    customer.save()
    customer.tags.clear()
    if login is not None:
        login.username = f"deleted-{login.pk}"
        login.first_name = login.last_name = login.email = ""
        login.is_active = False
        login.set_unusable_password()
        login.save()
    return done


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
    locked = User.objects.select_for_update().get(pk=user.pk)
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
        User.objects.select_for_update()
        .filter(role=Role.ADMIN, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if actor.pk not in admins:
        raise NotAllowed("Only an admin can deactivate staff.")
    locked = User.objects.select_for_update().get(pk=user.pk)
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
        for u in User.objects.select_for_update()
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
