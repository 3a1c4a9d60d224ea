"""Segments and their relationship strategies: the list and each segment's page for
staff (figures scoped to their book), the create and edit forms for admins. Thin views
over relationships.selectors and services.segment_strategy_save."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from customers.errors import ApplicationError
from customers.permissions import admin_required, staff_required
from customers.web import add_application_error

from ..forms import SegmentStrategyForm
from ..models import RelationshipType
from ..selectors import RELATIONSHIP_TYPE_HELP, segment_changes, segment_figures, segment_overview
from ..selectors.retention import period_label
from ..services import FULL_NIGHT_RECOMPUTES, SegmentSaved, segment_strategy_save
from .charts import CHART_H, CHART_W, PAD

NAV = "segments"


def retention_chart(snapshots) -> dict | None:
    """Monthly retention rates as bars (a running month drawn as partial)."""
    rated = [s for s in snapshots if s.retention_rate is not None]
    if not rated:
        return None
    inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    slot = inner_w / len(snapshots)
    bars = []
    for i, s in enumerate(snapshots):
        rate = s.retention_rate or 0.0
        h = inner_h * rate
        bars.append(
            {
                "x": round(PAD + i * slot + slot * 0.15, 1),
                "y": round(PAD + inner_h - h, 1),
                "w": round(slot * 0.7, 1),
                "h": round(h, 1),
                "mid": round(PAD + i * slot + slot / 2, 1),
                "label": s.period_start.strftime("%b"),
                "title": period_label(s.period_kind, s.period_start),
                "pct": None if s.retention_rate is None else round(rate * 100),
                "partial": not s.is_complete,
                "at_start": s.at_start,
                "retained": s.retained,
            }
        )
    return {"w": CHART_W, "h": CHART_H, "base": PAD + inner_h, "pad": PAD, "top": PAD, "bars": bars}


def _type_toggles(form: SegmentStrategyForm) -> list[dict]:
    chosen = set(form["relationship_types"].value() or [])
    return [
        {
            "value": w.data["value"],
            "label": w.choice_label,
            "id": w.id_for_label,
            "tag": w.tag,
            "help": RELATIONSHIP_TYPE_HELP.get(w.data["value"], ""),
            "on": w.data["value"] in chosen,
        }
        for w in form["relationship_types"]
    ]


def _saved_message(request, saved: SegmentSaved, created: bool) -> None:
    what = "created" if created else "saved"
    if saved.change is None:
        messages.info(request, f"{saved.segment} is unchanged.")
    elif saved.full_night:
        messages.success(
            request,
            f"{saved.segment} was {what}. The next nightly run will be a full one: "
            + "; ".join(FULL_NIGHT_RECOMPUTES)
            + ".",
        )
    else:
        messages.success(
            request,
            f"{saved.segment} was {what}. Nothing the nightly computes depends on what "
            "changed, so the next night may stay incremental.",
        )


def _form_page(request, form, figures=None):
    return render(
        request,
        "relationships/segment_form.html",
        {
            "nav": NAV,
            "form": form,
            "row": figures,
            "toggles": _type_toggles(form),
            "recomputes": FULL_NIGHT_RECOMPUTES,
        },
        status=400 if form.errors else 200,
    )


@staff_required
def segment_list(request):
    rows = segment_overview(actor=request.user)
    return render(request, "relationships/segment_list.html", {"nav": NAV, "rows": rows})


@staff_required
def segment_detail(request, pk: int):
    row = segment_figures(actor=request.user, pk=pk)
    strategy = row.strategy
    types = []
    if strategy is not None:
        chosen = set(strategy.relationship_types or [])
        types = [
            {"label": label, "help": RELATIONSHIP_TYPE_HELP.get(value, ""), "on": value in chosen}
            for value, label in RelationshipType.choices
        ]
    return render(
        request,
        "relationships/segment_detail.html",
        {
            "nav": NAV,
            "row": row,
            "types": types,
            "chart": retention_chart(row.monthly),
            "changes": segment_changes(segment=row.segment) if request.user.is_admin else [],
        },
    )


@admin_required
@require_http_methods(["GET", "POST"])
def segment_create(request):
    form = SegmentStrategyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = segment_strategy_save(actor=request.user, segment=None, **form.service_kwargs())
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            _saved_message(request, saved, created=True)
            return redirect("segment-detail", pk=saved.segment.pk)
    return _form_page(request, form)


@admin_required
@require_http_methods(["GET", "POST"])
def segment_edit(request, pk: int):
    row = segment_figures(actor=request.user, pk=pk)
    segment, strategy = row.segment, row.strategy
    initial = {f: getattr(segment, f) for f in ("name", "description", "inactivity_days")}
    if strategy is not None:
        initial |= {
            f: getattr(strategy, f)
            for f in (
                "relationship_types",
                "goal",
                "rhythm",
                "expected_gap_days",
                "cost_to_serve_per_year",
                "currency",
                "notes",
                "switching_costs",
            )
        }
    form = SegmentStrategyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = segment_strategy_save(
                actor=request.user, segment=segment, **form.service_kwargs()
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            _saved_message(request, saved, created=False)
            return redirect("segment-detail", pk=segment.pk)
    return _form_page(request, form, row)
