"""Staff pages on relationships: logging interactions, classifying complaints and working
through follow-ups."""

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from customers.errors import ApplicationError
from customers.permissions import staff_required
from customers.selectors import customer_get
from customers.web import add_application_error, safe_next, wants_fragment

from ..forms import InteractionForm, RootCauseForm
from ..selectors import (
    TimelineEntry,
    follow_up_counts,
    follow_ups_due,
    interaction_get,
    timeline_row,
    today,
)
from ..services import complaint_root_cause_set, follow_up_complete, interaction_log

UPCOMING_DAYS = 30


@staff_required
@require_http_methods(["GET", "POST"])
def interaction_log_view(request, pk: int):
    """GET shows the form on its own page; POST logs. Over HTMX the answer is a fresh form
    plus the new timeline entry, placed out of band at the top of the 360 timeline."""
    customer = customer_get(actor=request.user, pk=pk)
    form = InteractionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            interaction = interaction_log(
                customer=customer, author=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            if wants_fragment(request):
                entry = timeline_row(
                    TimelineEntry("interaction", interaction.occurred_at, interaction)
                )
                return render(
                    request,
                    "relationships/_interaction_logged.html",
                    {"customer": customer, "form": InteractionForm(), "entry": entry},
                )
            messages.success(request, f"Logged: {interaction.subject}")
            return redirect("customer-detail", pk=customer.pk)
    template = (
        "relationships/_interaction_form.html"
        if wants_fragment(request)
        else "relationships/interaction_form.html"
    )
    return render(request, template, {"nav": "customers", "customer": customer, "form": form})


@staff_required
@require_http_methods(["GET", "POST"])
def complaint_root_cause_view(request, pk: int):
    """Classify a complaint (or change its cause) after it was logged; a complaint of a
    customer outside the actor's book is a 404."""
    interaction = interaction_get(actor=request.user, pk=pk)
    back = safe_next(
        request, f"{reverse('customer-detail', args=[interaction.customer_id])}#interaction-{pk}"
    )
    form = RootCauseForm(
        request.POST if request.method == "POST" else None,
        initial={"root_cause": interaction.root_cause_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            complaint_root_cause_set(
                actor=request.user,
                interaction=interaction,
                root_cause=form.cleaned_data["root_cause"],
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request, f"{interaction.subject}: root cause {form.cleaned_data['root_cause']}."
            )
            return redirect(back)
    return render(
        request,
        "relationships/root_cause_form.html",
        {"nav": "customers", "interaction": interaction, "form": form, "back": back},
    )


@staff_required
def follow_up_list(request):
    day = today()
    until = day + dt.timedelta(days=UPCOMING_DAYS)
    due = list(follow_ups_due(actor=request.user, until=until))
    later = follow_ups_due(actor=request.user).filter(follow_up_on__gt=until).count()
    groups = [
        # follow_ups_due returns only interactions with a follow-up date
        ("overdue", "Overdue", [i for i in due if i.follow_up_on and i.follow_up_on < day]),
        ("today", "Today", [i for i in due if i.follow_up_on == day]),
        (
            "upcoming",
            f"Next {UPCOMING_DAYS} days",
            [i for i in due if i.follow_up_on and i.follow_up_on > day],
        ),
    ]
    return render(
        request,
        "relationships/follow_up_list.html",
        {"nav": "follow-ups", "groups": groups, "later": later, "today": day, "total": len(due)},
    )


@staff_required
@require_POST
def follow_up_done(request, pk: int):
    interaction = interaction_get(actor=request.user, pk=pk)
    try:
        follow_up_complete(actor=request.user, interaction=interaction)
    except ApplicationError as exc:
        if wants_fragment(request):
            return HttpResponse(exc.message, status=exc.status_code)
        messages.error(request, exc.message)
        return redirect("follow-up-list")
    message = f"Done: {interaction.subject}"
    if wants_fragment(request):
        # The row is swapped for nothing; the page's counts and the menu badge come along
        # out of band, so none of them is stale until a reload.
        counts = follow_up_counts(
            actor=request.user, until=today() + dt.timedelta(days=UPCOMING_DAYS)
        )
        return render(
            request,
            "relationships/_follow_up_counts.html",
            {"counts": counts, "message": message},
        )
    messages.success(request, message)
    return redirect("follow-up-list")
