"""Moderator pages: the queue (held and reported posts), the log of actions, and bans."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers.errors import ApplicationError
from customers.models import User
from customers.permissions import staff_required
from customers.web import add_application_error

from .. import selectors, services
from ..forms.forums import BanForm, ReasonForm
from ..models import PostingBan
from .forums import community_context


def _moderator(request: HttpRequest) -> None:
    if not selectors.is_moderator(request.user):
        raise PermissionDenied("Only moderators may use this page.")


@staff_required
def moderation_queue(request: HttpRequest) -> HttpResponse:
    _moderator(request)
    context = community_context(request, queue=selectors.moderation_queue(actor=request.user))
    return render(request, "community/moderation_queue.html", context)


@staff_required
def moderation_log(request: HttpRequest) -> HttpResponse:
    _moderator(request)
    context = community_context(request, actions=selectors.moderation_log(actor=request.user))
    return render(request, "community/moderation_log.html", context)


def _global_moderator(request: HttpRequest) -> None:
    if not selectors.moderates_everything(request.user):
        raise PermissionDenied("Only an admin or a moderator of every category may ban.")


@staff_required
def bans(request: HttpRequest) -> HttpResponse:
    _global_moderator(request)
    form = BanForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = User.objects.filter(username=form.cleaned_data["username"]).first()
            days = form.cleaned_data.get("days")
            try:
                if user is None:
                    raise ApplicationError("There is no one with that username.", field="username")
                services.user_ban(
                    actor=request.user,
                    user=user,
                    reason=form.cleaned_data["reason"],
                    ends_at=timezone.now() + dt.timedelta(days=days) if days else None,
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                messages.success(request, f"{user} may no longer post.")
                return redirect("community:bans")
        status = 400
    context = community_context(request, form=form, bans=selectors.bans_in_force())
    return render(request, "community/bans.html", context, status=status)


@staff_required
@require_POST
def ban_lift(request: HttpRequest, pk: int) -> HttpResponse:
    _global_moderator(request)
    ban = get_object_or_404(PostingBan, pk=pk)
    form = ReasonForm(request.POST)
    try:
        services.ban_lift(
            actor=request.user,
            ban=ban,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{ban.user} may post again.")
    return redirect("community:bans")
