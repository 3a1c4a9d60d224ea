"""Services of portal access: which customer record a sign-up belongs to, linking it once
the address is confirmed, and account managers inviting a customer to the portal.

Sign-in itself (forms, tokens, e-mail confirmation, two-factor) is django-allauth's;
customers/accounts.py plugs these rules into it (docs/portal.md "Access")."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from .errors import Conflict, NotAllowed, ValidationFailed, WrongCode
from .models import Customer, Role, User
from .selectors import customers_visible_to

logger = logging.getLogger(__name__)

NAME_MAX = 150  # User.username / first_name


def signup_customer(*, email: str) -> Customer | None:
    """The customer record a sign-up with `email` would be linked to: exactly one record
    with that address and no login yet. None when there is none, or more than one (which
    record is theirs is then for an account manager to say, by inviting them)."""
    email = (email or "").strip()
    if not email:
        return None
    matches = list(Customer.objects.filter(email__iexact=email, user__isnull=True)[:2])
    return matches[0] if len(matches) == 1 else None


def address_has_login(email: str) -> bool:
    """Some login already uses this address (as its e-mail, its username or an address
    added in its account settings)."""
    taken = Q(email__iexact=email) | Q(username__iexact=email)
    return (
        User.objects.filter(taken).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


@transaction.atomic
def portal_link_confirmed(*, user: User, email: str) -> Customer | None:
    """A customer login confirmed `email`: link it to the one record with that address
    and no login. Nothing happens for staff, for a login already linked, or when the
    record was meanwhile linked to someone else (an account manager's invitation)."""
    if user.role != Role.CUSTOMER or not user.is_active:
        return None
    if Customer.objects.filter(user=user).exists():
        return None
    matches = list(
        Customer.objects.select_for_update()
        .filter(email__iexact=email, user__isnull=True)
        .order_by("pk")[:2]
    )
    if len(matches) != 1:
        return None
    customer = matches[0]
    customer.user = user
    customer.save(update_fields=["user", "updated_at"])
    return customer


@dataclass(frozen=True)
class PortalInvitation:
    user: User
    mailed: bool  # False: the login exists, the mail did not leave; send it again
    again: bool  # True: the login existed already and had no password yet


def customer_portal_invite(*, actor: User, customer: Customer, base_url: str) -> PortalInvitation:
    """An account manager (or admin) opens the portal to a customer in their book: a
    login with the record's e-mail address, linked to the record, and a mail with a link to
    choose a password. The address counts as confirmed: it is on the record, and only
    someone who reads that mailbox can use the link. Asked again while the customer has
    not chosen a password yet, the link is mailed again."""
    if not actor.is_staff_member:
        raise NotAllowed("Only staff can invite a customer to the portal.")
    if not customers_visible_to(actor).filter(pk=customer.pk).exists():
        raise NotAllowed("You can invite only customers in your book.")
    email = (customer.email or "").strip().lower()
    if not email:
        raise ValidationFailed(
            f"{customer} has no e-mail address: add one to the record first.", field="email"
        )
    if len(email) > NAME_MAX:
        raise ValidationFailed(
            f"A login's e-mail address has at most {NAME_MAX} characters.", field="email"
        )
    try:
        with transaction.atomic():
            locked = (
                Customer.objects.select_for_update(of=("self",))
                .select_related("user")
                .get(pk=customer.pk)
            )
            if locked.user is not None:
                if locked.user.has_usable_password() or not locked.user.is_active:
                    raise Conflict(f"{locked} already has a portal login.", field="user")
                user, again = locked.user, True
            else:
                if address_has_login(email):
                    raise Conflict(
                        f"{email} is already used by another login; correct the record's "
                        "e-mail address first.",
                        field="email",
                    )
                user = User(
                    username=email,
                    email=email,
                    role=Role.CUSTOMER,
                    first_name=locked.name[:NAME_MAX],
                )
                user.set_unusable_password()  # no sign-in until they choose one
                user.save()
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                locked.user = user
                locked.save(update_fields=["user", "updated_at"])
                again = False
    except IntegrityError as exc:  # the same address invited twice at once
        raise Conflict(f"{email} is already used by another login.", field="email") from exc
    mailed = _send_portal_invitation(user=user, customer=customer, actor=actor, base_url=base_url)
    return PortalInvitation(user=user, mailed=mailed, again=again)


def portal_invitation_link(*, user: User, base_url: str) -> str:
    """allauth's set-a-new-password link: it stops working once a password is chosen."""
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def _send_portal_invitation(*, user: User, customer: Customer, actor: User, base_url: str) -> bool:
    context = {
        "customer": customer,
        "user": user,
        "invited_by": actor,
        "link": portal_invitation_link(user=user, base_url=base_url),
        "login_link": base_url.rstrip("/") + reverse("login"),
    }
    subject = "".join(
        render_to_string("customers/email/portal_invite_subject.txt", context).splitlines()
    )
    body = render_to_string("customers/email/portal_invite.txt", context)
    try:
        EmailMessage(subject, body, None, [user.email]).send()
    except (smtplib.SMTPException, OSError):
        logger.exception("The portal invitation to %s did not leave", user.email)
        return False
    return True


# --- the second factor for API tokens ---------------------------------------------------

OTP_FIELD = "otp"
OTP_MISSING = "This account uses two-factor sign-in: send the current code in otp."
OTP_WRONG = (
    "That code is not right, or was used already: send the current code from your "
    "authenticator app, or one of your unused recovery codes, in otp."
)
TWO_FACTOR_NOT_SET_UP = "Set up two-factor sign-in in your account before using the API."


@transaction.atomic
def api_token_second_factor(*, user: User, code: str) -> None:
    """The second factor an API token asks for, after the password, as the sign-in page
    does: a login with TOTP turned on sends its current code or one of its unused recovery
    codes (used up here, as allauth does); staff without two-factor get no token while
    CRM_STAFF_REQUIRE_2FA is on, as they reach no page. The codes are checked by allauth's
    own authenticators. Raises ValidationFailed (no code), WrongCode or NotAllowed."""
    # "Turned on" as allauth's sign-in stage reads it: recovery codes alone are no factor.
    if not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
        if settings.CRM_STAFF_REQUIRE_2FA and user.is_staff_member:
            raise NotAllowed(TWO_FACTOR_NOT_SET_UP)
        return
    if not code.strip():
        raise ValidationFailed(OTP_MISSING, field=OTP_FIELD)
    authenticators = Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    )
    for authenticator in authenticators:
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return
    raise WrongCode(OTP_WRONG, field=OTP_FIELD)
