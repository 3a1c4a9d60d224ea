"""Corrective plan pages: the list, creating and editing a plan, its actions, and the
before/after comparison of defections for the causes it addresses."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from customers.errors import ApplicationError
from customers.permissions import admin_required, staff_required
from customers.web import add_application_error

from ..forms import ActionForm, PlanFilterForm, PlanForm
from ..models import ActionStatus
from ..selectors import action_get, effect_sentence, plan_effect, plan_get, plans_visible_to
from ..services import action_add, action_mark_done, plan_save
from .charts import effect_chart


@staff_required
def plan_list(request):
    """Every plan, or with ?cause=<code> the plans addressing that cause (the defection
    report links here from each reason)."""
    plans = plans_visible_to(request.user).prefetch_related("actions")
    form = PlanFilterForm(request.GET)
    cause = None
    if form.is_valid():
        cause = form.cleaned_data["cause"]
        if cause is not None:
            plans = plans.filter(causes=cause).distinct()
    return render(
        request,
        "relationships/plan_list.html",
        {"nav": "analytics", "plans": plans, "cause": cause, "filter_form": form},
        status=200 if form.is_valid() else 400,
    )


def _plan_kwargs(form: PlanForm) -> dict:
    data = form.cleaned_data
    return {
        "title": data["title"],
        "description": data["description"],
        "causes": list(data["causes"]),
        "owner": data["owner"],
        "recovery_team": list(data["recovery_team"]),
        "status": data["status"],
        "started_on": data["started_on"],
    }


@admin_required
@require_http_methods(["GET", "POST"])
def plan_create(request):
    initial = {"owner": request.user}
    # From the defection report's "start one": the plan starts on that cause.
    cause = PlanFilterForm(request.GET)
    if cause.is_valid() and cause.cleaned_data["cause"] is not None:
        initial["causes"] = [cause.cleaned_data["cause"]]
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_save(actor=request.user, **_plan_kwargs(form))
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Plan created: {plan.title}")
            return redirect("plan-detail", pk=plan.pk)
    return render(
        request, "relationships/plan_form.html", {"nav": "analytics", "form": form, "plan": None}
    )


@admin_required
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk: int):
    plan = plan_get(actor=request.user, pk=pk)
    initial = {
        "title": plan.title,
        "description": plan.description,
        "causes": list(plan.causes.all()),
        "owner": plan.owner,
        "recovery_team": list(plan.recovery_team.all()),
        "status": plan.status,
        "started_on": plan.started_on,
    }
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan_save(actor=request.user, plan=plan, **_plan_kwargs(form))
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Plan saved.")
            return redirect("plan-detail", pk=plan.pk)
    return render(
        request, "relationships/plan_form.html", {"nav": "analytics", "form": form, "plan": plan}
    )


def _plan_page(request, plan, action_form, status=200):
    effect = plan_effect(actor=request.user, plan=plan)
    return render(
        request,
        "relationships/plan_detail.html",
        {
            "nav": "analytics",
            "plan": plan,
            "actions": list(plan.actions.select_related("owner")),
            "action_form": action_form,
            "effect": effect,
            "sentence": effect_sentence(effect),
            "chart": effect_chart(effect),
            "scope": "the whole book" if request.user.is_admin else "your book",
            "ActionStatus": ActionStatus,
        },
        status=status,
    )


@staff_required
def plan_detail(request, pk: int):
    plan = plan_get(actor=request.user, pk=pk)
    return _plan_page(request, plan, ActionForm() if request.user.is_admin else None)


@admin_required
@require_POST
def plan_action_add(request, pk: int):
    plan = plan_get(actor=request.user, pk=pk)
    form = ActionForm(request.POST)
    if form.is_valid():
        try:
            action = action_add(actor=request.user, plan=plan, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Action added: {action.description}")
            return redirect("plan-detail", pk=plan.pk)
    return _plan_page(request, plan, form, status=400)


@staff_required
@require_POST
def plan_action_done(request, pk: int):
    action = action_get(actor=request.user, pk=pk)
    try:
        action_mark_done(actor=request.user, action=action)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Done: {action.description}")
    return redirect("plan-detail", pk=action.plan_id)
