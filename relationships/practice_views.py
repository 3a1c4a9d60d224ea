"""Staff pages for relationship-marketing practice: the ladder of loyalty (funnel, moves,
rule suggestions, moving a customer by hand), the defection and complaint report, and
corrective plans. Thin: selectors read, services write, chart geometry is numbers only
(the templates draw and escape)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from customers.errors import ApplicationError
from customers.forms import add_application_error
from customers.models import Stage
from customers.permissions import admin_required, staff_required
from customers.selectors import customer_get
from customers.views import wants_fragment

from . import selectors as report
from .models import ActionStatus, LadderSuggestion, SuggestionStatus
from .practice_forms import ActionForm, LadderMoveForm, PlanForm
from .selectors import (
    customers_on_rung,
    ladder_counts,
    open_suggestions,
    stage_history,
    stage_moves_this_month,
    suggestions_visible_to,
)
from .services import action_add, action_mark_done, ladder_move, ladder_suggestion_decide, plan_save

SUGGESTION_LIMIT = 50  # a morning's worth; the API pages through the rest
CHART_W, CHART_H, PAD = 640, 220, 36
# Distinguishable on white, also for the common colour-blindness (Okabe-Ito).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999"]


# --- Ladder of loyalty ----------------------------------------------------------------------


@staff_required
def ladder(request):
    actor = request.user
    counts = ladder_counts(actor=actor)
    top = max((n for _, _, n in counts), default=0) or 1
    funnel = [
        {"value": v, "label": label, "count": n, "width": round(max(n / top * 100, 0.5), 1)}
        for v, label, n in counts
    ]
    qs = open_suggestions(actor=actor)
    suggestions = list(qs[:SUGGESTION_LIMIT])
    total = len(suggestions) if len(suggestions) < SUGGESTION_LIMIT else qs.count()
    rung = request.GET.get("stage")
    on_rung, on_rung_total = (
        customers_on_rung(actor=actor, stage=rung) if rung in Stage.values else ([], 0)
    )
    return render(
        request,
        "relationships/ladder.html",
        {
            "nav": "ladder",
            "scope": "the whole book" if actor.is_admin else "your book",
            "funnel": funnel,
            "moves": stage_moves_this_month(actor=actor),
            "suggestions": suggestions,
            "total": total,
            "rung": Stage(rung) if rung in Stage.values else None,
            "on_rung": on_rung,
            "on_rung_total": on_rung_total,
        },
    )


@staff_required
@require_POST
def ladder_suggestion_decide_view(request, pk: int):
    try:
        suggestion = suggestions_visible_to(request.user).select_related("customer").get(pk=pk)
    except (LadderSuggestion.DoesNotExist, ValueError) as exc:
        raise Http404("No such suggestion.") from exc
    decision = request.POST.get("decision")
    try:
        if decision not in {"accept", "dismiss"}:
            raise ApplicationError("Choose accept or dismiss.")
        decided = ladder_suggestion_decide(
            actor=request.user, suggestion=suggestion, accept=decision == "accept"
        )
    except ApplicationError as exc:
        if wants_fragment(request):
            return HttpResponse(exc.message, status=exc.status_code)
        messages.error(request, exc.message)
        return redirect("ladder")
    if wants_fragment(request):
        return HttpResponse("")  # the row is swapped for nothing
    if decided.status == SuggestionStatus.ACCEPTED:
        messages.success(request, f"{suggestion.customer} is now a {decided.get_to_stage_display().lower()}.")
    else:
        messages.success(request, f"Dismissed the suggestion for {suggestion.customer}.")
    return redirect("ladder")


@staff_required
@require_http_methods(["GET", "POST"])
def customer_ladder(request, pk: int):
    customer = customer_get(actor=request.user, pk=pk)
    form = LadderMoveForm(request.POST or None, initial={"to_stage": customer.stage})
    if request.method == "POST" and form.is_valid():
        try:
            change = ladder_move(actor=request.user, customer=customer, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request, f"{customer} moved from {change.get_from_stage_display().lower()} "
                f"to {change.get_to_stage_display().lower()}."
            )
            return redirect("customer-ladder", pk=customer.pk)
    return render(
        request,
        "relationships/customer_ladder.html",
        {
            "nav": "customers",
            "customer": customer,
            "form": form,
            "history": list(stage_history(customer=customer)[:50]),
            "suggestion": suggestions_visible_to(request.user)
            .filter(customer=customer, status=SuggestionStatus.OPEN)
            .first(),
        },
    )


# --- Defection and complaint report ----------------------------------------------------


def stacked_chart(grid: list[dict], labels: list[str]) -> dict | None:
    """Bars per month, one stacked block per reason, same colour per reason."""
    if not any(row["total"] for row in grid):
        return None
    top = max(row["total"] for row in grid)
    inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    slot = inner_w / len(grid)
    bars = []
    for i, row in enumerate(grid):
        y = PAD + inner_h
        blocks = []
        for k, n in enumerate(row["counts"]):
            if not n:
                continue
            h = inner_h * n / top
            y -= h
            blocks.append(
                {"y": round(y, 1), "h": round(h, 1), "color": PALETTE[k % len(PALETTE)], "label": labels[k], "n": n}
            )
        bars.append(
            {
                "x": round(PAD + i * slot + slot * 0.15, 1),
                "w": round(slot * 0.7, 1),
                "mid": round(PAD + i * slot + slot / 2, 1),
                "month": row["month"],
                "total": row["total"],
                "top_y": round(y - 4, 1),
                "blocks": blocks,
            }
        )
    legend = [{"label": label, "color": PALETTE[k % len(PALETTE)]} for k, label in enumerate(labels)]
    return {"w": CHART_W, "h": CHART_H, "base": PAD + inner_h, "top": top, "pad": PAD, "bars": bars, "legend": legend}


def _table(grid: list[dict], labels: list[str]) -> list[dict]:
    """Reasons down, months across (a heat table for reading exact numbers)."""
    top = max((n for row in grid for n in row["counts"]), default=0) or 1
    return [
        {
            "label": label,
            "cells": [{"n": row["counts"][k], "opacity": round(row["counts"][k] / top, 2)} for row in grid],
            "total": sum(row["counts"][k] for row in grid),
        }
        for k, label in enumerate(labels)
    ]


@staff_required
def defection_report_view(request):
    actor = request.user
    data = report.defection_report(actor=actor)
    return render(
        request,
        "relationships/defection_report.html",
        {
            "nav": "analytics",
            "scope": "the whole book" if actor.is_admin else "your book",
            "data": data,
            "defection_chart": stacked_chart(data["defections_by_month"], data["defection_reasons"]),
            "defection_table": _table(data["defections_by_month"], data["defection_reasons"]),
            "complaint_chart": stacked_chart(data["complaints_by_month"], data["complaint_causes"]),
            "complaint_table": _table(data["complaints_by_month"], data["complaint_causes"]),
        },
    )


# --- Corrective plans -----------------------------------------------------------------------


def effect_chart(effect: dict | None) -> dict | None:
    if not effect or not effect["months"]:
        return None
    rows = effect["months"]
    top = max((r["rate"] or 0 for r in rows), default=0) or 0.01
    inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    slot = inner_w / len(rows)
    bars = []
    pivot_x = None
    for i, r in enumerate(rows):
        h = inner_h * (r["rate"] or 0) / top
        if r["after"] and pivot_x is None:
            pivot_x = round(PAD + i * slot, 1)
        bars.append(
            {
                "x": round(PAD + i * slot + slot * 0.15, 1),
                "y": round(PAD + inner_h - h, 1),
                "w": round(slot * 0.7, 1),
                "h": round(h, 1),
                "mid": round(PAD + i * slot + slot / 2, 1),
                "after": r["after"],
                "row": r,
                "pct": None if r["rate"] is None else round(r["rate"] * 100, 1),
            }
        )
    return {
        "w": CHART_W, "h": CHART_H, "base": PAD + inner_h, "pad": PAD, "bars": bars, "pivot_x": pivot_x,
        "top_pct": round(top * 100, 1),
    }


@staff_required
def plan_list(request):
    plans = report.plans_visible_to(request.user).prefetch_related("actions")
    return render(request, "relationships/plan_list.html", {"nav": "analytics", "plans": plans})


def _plan_kwargs(form: PlanForm) -> dict:
    data = form.cleaned_data
    return {
        "title": data["title"], "description": data["description"], "causes": list(data["causes"]),
        "owner": data["owner"], "recovery_team": list(data["recovery_team"]),
        "status": data["status"], "started_on": data["started_on"],
    }


@admin_required
@require_http_methods(["GET", "POST"])
def plan_create(request):
    form = PlanForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_save(actor=request.user, **_plan_kwargs(form))
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Plan created: {plan.title}")
            return redirect("plan-detail", pk=plan.pk)
    return render(request, "relationships/plan_form.html", {"nav": "analytics", "form": form, "plan": None})


@admin_required
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk: int):
    plan = report.plan_get(actor=request.user, pk=pk)
    initial = {
        "title": plan.title, "description": plan.description, "causes": list(plan.causes.all()),
        "owner": plan.owner, "recovery_team": list(plan.recovery_team.all()),
        "status": plan.status, "started_on": plan.started_on,
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
    return render(request, "relationships/plan_form.html", {"nav": "analytics", "form": form, "plan": plan})


def _plan_page(request, plan, action_form, status=200):
    effect = report.plan_effect(actor=request.user, plan=plan)
    return render(
        request,
        "relationships/plan_detail.html",
        {
            "nav": "analytics",
            "plan": plan,
            "actions": list(plan.actions.select_related("owner")),
            "action_form": action_form,
            "effect": effect,
            "sentence": report.effect_sentence(effect),
            "chart": effect_chart(effect),
            "scope": "the whole book" if request.user.is_admin else "your book",
            "ActionStatus": ActionStatus,
        },
        status=status,
    )


@staff_required
def plan_detail(request, pk: int):
    plan = report.plan_get(actor=request.user, pk=pk)
    return _plan_page(request, plan, ActionForm() if request.user.is_admin else None)


@admin_required
@require_POST
def plan_action_add(request, pk: int):
    plan = report.plan_get(actor=request.user, pk=pk)
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
    action = report.action_get(actor=request.user, pk=pk)
    try:
        action_mark_done(actor=request.user, action=action)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Done: {action.description}")
    return redirect("plan-detail", pk=action.plan_id)
