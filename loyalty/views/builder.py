"""The program builder: admins create and edit programs, tiers, earning rules, rewards and
offers in the app's own pages, through the same services as the API (config_save and
config_schedule), so there is one set of rules. A form posted by htmx with `check` is
only validated and rendered back, so a contradiction shows on its field before saving."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers.errors import ApplicationError
from customers.models import User
from customers.permissions import admin_required
from customers.web import add_application_error, wants_fragment

from .. import selectors, services
from ..forms import (
    OfferEditForm,
    OfferForm,
    ProgramEditForm,
    ProgramForm,
    RewardEditForm,
    RewardForm,
    RuleEditForm,
    RuleForm,
    TierEditForm,
    TierForm,
)
from ..models import ConfigChange, EarningRule, Offer, Program, Reward, Tier


@dataclass(frozen=True)
class Part:
    label: str
    model: type[models.Model]
    new_form: type[forms.ModelForm]
    edit_form: type[forms.ModelForm]
    m2m: tuple[str, ...] = ()


PARTS = {
    "tier": Part("tier", Tier, TierForm, TierEditForm),
    "rule": Part("earning rule", EarningRule, RuleForm, RuleEditForm),
    "reward": Part("reward", Reward, RewardForm, RewardEditForm, ("tiers",)),
    "offer": Part("offer", Offer, OfferForm, OfferEditForm),
}


def _program_url(program: Program, anchor: str = "") -> str:
    return reverse("loyalty-program", args=[program.pk]) + (f"#{anchor}" if anchor else "")


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    context = {"nav": "loyalty", **context}
    if wants_fragment(request) and "check" in request.POST:
        return render(request, "loyalty/builder/_check.html", context, status=status)
    return render(request, template, context, status=status)


def _save(request, form, *, program: Program | None, m2m_names: tuple[str, ...]):
    """Save a valid form through the services: now, or from the date it names. Returns
    the change, or None with the refusal put on the form."""
    data = form.cleaned_data
    m2m = {name: list(data[name]) for name in m2m_names if name in data}
    changes = {
        name: value
        for name, value in data.items()
        if name in form._meta.fields and name not in m2m_names and name != "eligible_segments"
    }
    if "eligible_segments" in data:
        m2m["eligible_segments"] = list(data["eligible_segments"])
    effective_on = data.get("effective_on") or timezone.localdate()
    try:
        return services.config_schedule(
            actor=_admin(request),
            obj=form.instance,
            changes=changes,
            m2m=m2m,
            effective_on=effective_on,
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        return None


def _said(request, change: ConfigChange | None, label: str) -> None:
    if change is None:
        return
    if change.status == "scheduled":
        messages.success(
            request,
            f"The change to the {label} {change.object_name} is scheduled for "
            f"{change.effective_on:%-d %b %Y}; that night's run applies it.",
        )
    else:
        verb = "created" if change.created else "saved"
        messages.success(request, f"The {label} {change.object_name} is {verb}.")


def _admin(request: HttpRequest) -> User:
    """The signed-in admin (admin_required let only them in), typed for the services."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user


@admin_required
def program_create(request: HttpRequest) -> HttpResponse:
    form = ProgramForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and "check" not in request.POST:
            change = _save(request, form, program=None, m2m_names=())
            if change is not None:
                _said(request, change, "program")
                return redirect(_program_url(form.instance))
        status = 200 if "check" in request.POST else 400
    return _render(
        request,
        "loyalty/builder/form.html",
        {"form": form, "title": "New loyalty program", "action": request.path},
        status,
    )


@admin_required
def program_edit(request: HttpRequest, pk: int) -> HttpResponse:
    program = selectors.program_get(actor=_admin(request), pk=pk)
    form = ProgramEditForm(request.POST or None, instance=program)
    status = 200
    if request.method == "POST":
        if form.is_valid() and "check" not in request.POST:
            change = _save(request, form, program=program, m2m_names=())
            if change is not None:
                _said(request, change, "program")
                return redirect(_program_url(program))
        status = 200 if "check" in request.POST else 400
    return _render(
        request,
        "loyalty/builder/form.html",
        {
            "form": form,
            "program": program,
            "title": f"Edit {program.name}",
            "action": request.path,
        },
        status,
    )


@admin_required
def part_edit(request: HttpRequest, pk: int, part: str, item: int | None = None) -> HttpResponse:
    """Add (item None) or edit a tier, rule, reward or offer of a program."""
    program = selectors.program_get(actor=_admin(request), pk=pk)
    spec = PARTS.get(part)
    if spec is None:
        raise Http404("No such part of a program.")
    if item is None:
        instance = spec.model(program=program)  # an offer made here is this program's
        form_class = spec.new_form
    else:
        queryset = spec.model._default_manager.all()
        if spec.model is Offer:  # this program's, or an offer tied to no program
            queryset = queryset.filter(Q(program=program) | Q(program__isnull=True))
        else:
            queryset = queryset.filter(program=program)
        instance = get_object_or_404(queryset, pk=item)
        form_class = spec.edit_form
    form = form_class(request.POST or None, instance=instance)
    status = 200
    if request.method == "POST":
        if form.is_valid() and "check" not in request.POST:
            change = _save(request, form, program=program, m2m_names=spec.m2m)
            if change is not None:
                _said(request, change, spec.label)
                return redirect(_program_url(program, f"{part}s"))
        status = 200 if "check" in request.POST else 400
    verb = "Add" if item is None else "Edit"
    name = "" if item is None else f" {instance}"
    return _render(
        request,
        "loyalty/builder/form.html",
        {
            "form": form,
            "program": program,
            "title": f"{verb} {spec.label}{name}",
            "action": request.path,
        },
        status,
    )


@admin_required
@require_POST
def change_cancel(request: HttpRequest, pk: int, change: int) -> HttpResponse:
    program = selectors.program_get(actor=_admin(request), pk=pk)
    row = get_object_or_404(ConfigChange.objects.filter(program=program), pk=change)
    try:
        services.config_change_cancel(actor=_admin(request), change=row)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The scheduled change to {row.object_name} is cancelled.")
    return redirect(_program_url(program, "changes"))
