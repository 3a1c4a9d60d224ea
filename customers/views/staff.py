"""Admins' pages on staff accounts: the list, invitations, deactivation and handing a
whole book to another account manager; and the page an invited person sets a password on.
Thin views over customers.selectors and customers.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ..errors import ApplicationError
from ..forms import BookReassignForm, StaffInviteForm
from ..models import User
from ..permissions import admin_required
from ..selectors import book_sizes, staff_get, staff_members, staff_state
from ..services import (
    book_reassign,
    staff_deactivate,
    staff_invite,
    staff_invite_accept,
    staff_invite_is_open,
    staff_invite_resend,
)
from ..web import add_application_error, site_base_url

NAV = "staff"


@admin_required
def staff_list(request):
    people = list(staff_members())
    rows = [{"user": u, "state": staff_state(u)} for u in people]
    return render(request, "customers/staff_list.html", {"nav": NAV, "rows": rows})


@admin_required
@require_http_methods(["GET", "POST"])
def staff_invite_view(request):
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = staff_invite(
                actor=request.user, base_url=site_base_url(request), **form.cleaned_data
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            user = invitation.user
            if invitation.mailed:
                messages.success(
                    request, f"{user.email} is invited: a link to set a password is on its way."
                )
            else:
                messages.error(
                    request,
                    f"{user.email} is invited, but the mail did not leave: use “Send again”.",
                )
            return redirect("staff-list")
    return render(request, "customers/staff_invite.html", {"nav": NAV, "form": form})


@admin_required
@require_POST
def staff_invite_resend_view(request, pk: int):
    user = staff_get(pk=pk)
    try:
        mailed = staff_invite_resend(actor=request.user, user=user, base_url=site_base_url(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if mailed:
            messages.success(request, f"The invitation went to {user.email} again.")
        else:
            messages.error(request, f"The mail to {user.email} did not leave; try again later.")
    return redirect("staff-list")


@admin_required
@require_http_methods(["GET", "POST"])
def staff_deactivate_view(request, pk: int):
    person = staff_get(pk=pk)
    error = ""
    if request.method == "POST":
        try:
            staff_deactivate(actor=request.user, user=person)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"{person} can no longer sign in.")
            return redirect("staff-list")
    return render(
        request,
        "customers/staff_deactivate.html",
        {"nav": NAV, "person": person, "state": staff_state(person), "error": error},
        status=409 if error else 200,
    )


@admin_required
@require_http_methods(["GET", "POST"])
def book_reassign_view(request):
    initial = {"from_manager": request.GET.get("from")} if request.GET.get("from") else None
    form = BookReassignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            moved = book_reassign(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            data = form.cleaned_data
            messages.success(
                request,
                f"{moved:,} customer{'s' if moved != 1 else ''} moved from "
                f"{data['from_manager']} to {data['to_manager']}.",
            )
            return redirect("book-reassign")
    return render(
        request,
        "customers/book_reassign.html",
        {"nav": NAV, "form": form, "books": list(book_sizes())},
        status=400 if form.errors else 200,
    )


class StaffInviteAcceptView(PasswordResetConfirmView):
    """Django's set-password page with its token checks, for open invitations only; the
    password is saved through the service, which also activates the account."""

    template_name = "customers/staff_invite_accept.html"
    success_url = reverse_lazy("login")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None or not isinstance(user, User) or not staff_invite_is_open(user):
            return None
        return user

    def form_valid(self, form):
        try:
            staff_invite_accept(user=self.user, password=form.cleaned_data["new_password1"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        self.request.session.pop("_password_reset_token", None)
        messages.success(self.request, "Your password is set: sign in with your e-mail address.")
        return HttpResponseRedirect(self.get_success_url())
