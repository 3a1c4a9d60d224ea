"""The ladder of loyalty pages: the funnel, this month's moves, rule suggestions to decide,
and moving one customer by hand."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from customers.errors import ApplicationError
from customers.models import Stage, User
from customers.pagination import (
    BadCursor,
    capped_count,
    keyset_page,
    keyset_position,
    keyset_token,
)
from customers.permissions import staff_required
from customers.selectors import customer_get
from customers.web import add_application_error, wants_fragment

from ..forms import LadderMoveForm
from ..models import LadderSuggestion, SuggestionStatus
from ..selectors import (
    customers_on_rung,
    ladder_counts,
    open_suggestions,
    stage_history,
    stage_moves_this_month,
    suggestions_visible_to,
)
from ..services import ladder_move, ladder_suggestion_decide

PAGE_SIZE = 50
COUNT_CAP = 10_000  # as the customer list: "10,000+" says enough


def _funnel(actor: User) -> list[dict]:
    counts = ladder_counts(actor=actor)
    top = max((n for _, _, n in counts), default=0) or 1
    return [
        {"value": v, "label": label, "count": n, "width": round(max(n / top * 100, 0.5), 1)}
        for v, label, n in counts
    ]


@staff_required
def ladder(request):
    actor = request.user
    funnel = _funnel(actor)
    qs = open_suggestions(actor=actor)
    cursor = request.GET.get("cursor", "")
    position, cursor_error = None, ""
    if cursor:
        try:
            position = keyset_position(
                "suggestions", cursor, LadderSuggestion._meta.get_field("created_on")
            )
        except BadCursor:
            cursor_error = "That page link is not valid any more; showing the newest suggestions."
            cursor = ""
    suggestions = keyset_page(
        qs, "created_on", descending=True, position=position, limit=PAGE_SIZE + 1
    )
    has_next = len(suggestions) > PAGE_SIZE
    suggestions = suggestions[:PAGE_SIZE]
    # A first page that is not full is the whole answer: no count needed.
    total = len(suggestions) if not cursor and not has_next else capped_count(qs, COUNT_CAP)
    rung = request.GET.get("stage")
    keep = [("stage", rung)] if rung in Stage.values else []
    next_url = ""
    if has_next:
        last = suggestions[-1]
        token = keyset_token("suggestions", last.created_on, last.pk)
        next_url = f"?{urlencode([*keep, ('cursor', token)])}#suggestions"
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
            "total_capped": total > COUNT_CAP,
            "count_cap": COUNT_CAP,
            "page_size": PAGE_SIZE,
            "next_url": next_url,
            "first_url": f"?{urlencode(keep)}#suggestions" if keep else "?#suggestions",
            "is_first_page": not cursor,
            "cursor_error": cursor_error,
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
    if decided.status == SuggestionStatus.ACCEPTED:
        message = f"{suggestion.customer} is now a {decided.get_to_stage_display().lower()}."
    else:
        message = f"Dismissed the suggestion for {suggestion.customer}."
    if wants_fragment(request):
        # The row is swapped for nothing; the waiting count, this month's moves and the
        # funnel come along out of band, so none of them is stale until a reload.
        return render(
            request,
            "relationships/_ladder_counts.html",
            {
                "total": (total := capped_count(open_suggestions(actor=request.user), COUNT_CAP)),
                "total_capped": total > COUNT_CAP,
                "count_cap": COUNT_CAP,
                "moves": stage_moves_this_month(actor=request.user),
                "funnel": _funnel(request.user),
                "message": message,
            },
        )
    messages.success(request, message)
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
                request,
                f"{customer} moved from {change.get_from_stage_display().lower()} "
                f"to {change.get_to_stage_display().lower()}.",
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
