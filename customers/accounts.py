"""django-allauth, fitted to KeepCRM's rules (docs/portal.md "Access"):

- sign-up is for existing customers: the address must be that of exactly one customer
  record without a login; the login is linked to it once the address is confirmed;
- a sign-up for any other address ends on the same "check your inbox" page as a good one
  (the mail then says what to do), so the form never tells whether an address is a
  customer's;
- a login held for e-mail confirmation is only one that signed up itself: staff, invited
  customers and logins an admin created carry no unconfirmed address.

The rules themselves are services in customers.access; this module only plugs them in."""

from __future__ import annotations

from typing import Any

from allauth.account import stages
from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.forms import SignupForm
from allauth.account.models import EmailAddress
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .access import portal_link_confirmed, signup_customer
from .models import Role, User


class EmailVerificationStage(stages.EmailVerificationStage):
    """allauth's mandatory confirmation, for logins that signed up with their address. A
    login whose own address has no allauth row (staff, the demo, logins made in the admin
    or by an import) was created by someone who vouched for it: signing in is not held,
    not even after they add a second address in their account settings."""

    def handle(self):
        user = self.login.user
        if user is not None:
            signed_up = EmailAddress.objects.filter(user_id=user.pk, email__iexact=user.email)
            if not user.email or not signed_up.exists():
                return None, True
        return super().handle()


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        ours = f"{EmailVerificationStage.__module__}.{EmailVerificationStage.__qualname__}"
        return [
            ours if path == "allauth.account.stages.EmailVerificationStage" else path
            for path in super().get_login_stages()
        ]

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        """A sign-up is always a customer; the address is the username, as for staff, when
        no login has it as its username yet."""
        user = super().save_user(request, user, form, commit=False)
        user.role = Role.CUSTOMER
        email = (user.email or "").lower()
        if email and not User.objects.filter(username__iexact=email).exists():
            user.username = email
        if commit:
            user.save()
        return user

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed and isinstance(email_address.user, User):
            portal_link_confirmed(user=email_address.user, email=email_address.email)
        return confirmed


class CustomerSignupForm(SignupForm):
    """allauth's sign-up form; an address that is no customer's (or an ambiguous one)
    creates no login and gets a mail instead, behind the same page as a good sign-up."""

    not_a_customer = False

    def validate_unique_email(self, value: str) -> str:
        email = super().validate_unique_email(value)
        if not self.account_already_exists and signup_customer(email=email) is None:
            self.not_a_customer = True
        return email

    def try_save(self, request: HttpRequest) -> tuple[Any, HttpResponse | None]:
        if not self.not_a_customer:
            return super().try_save(request)
        email = self.cleaned_data["email"]
        get_adapter(request).send_mail(
            "account/email/signup_not_a_customer",
            email,
            {"login_url": request.build_absolute_uri(reverse("login"))},
        )
        return None, redirect("account_email_verification_sent")
