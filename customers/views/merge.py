"""The admin's page that merges two records of one customer: pick the other record (the
page suggests look-alikes), compare them side by side with what would move, merge."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ..errors import ApplicationError
from ..merging import customer_merge, customer_merge_preview
from ..permissions import admin_required
from ..selectors import customer_duplicates, customer_get, customer_merges

# What the side-by-side table shows of each record.
COMPARED = (
    ("Name", "name"),
    ("E-mail", "email"),
    ("Phone", "phone"),
    ("Company", "company"),
    ("External id", "external_id"),
    ("Segment", "segment"),
    ("Stage", "get_stage_display"),
    ("Status", "get_status_display"),
    ("Account manager", "account_manager"),
    ("Portal login", "user"),
    ("Acquired", "acquired_on"),
    ("Added", "created_at"),
)


class OtherForm(forms.Form):
    other = forms.IntegerField(
        min_value=1,
        label="Number of the other record",
        help_text="The # after a customer's name; its history moves into this record.",
    )


def _value(customer, attribute: str) -> object:
    value = getattr(customer, attribute)
    value = value() if callable(value) else value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@admin_required
@require_http_methods(["GET", "POST"])
def customer_merge_view(request, pk: int):
    survivor = customer_get(actor=request.user, pk=pk)
    form = OtherForm(request.GET if "other" in request.GET else None)
    preview = None
    if form.is_valid():
        other_pk = form.cleaned_data["other"]
        try:
            absorbed = customer_get(actor=request.user, pk=other_pk)
            preview = customer_merge_preview(
                actor=request.user, survivor=survivor, absorbed=absorbed
            )
        except ApplicationError as exc:
            form.add_error("other", exc.message)
        except Http404:
            form.add_error("other", f"There is no customer #{other_pk}.")
    if request.method == "POST" and preview is not None:
        try:
            record = customer_merge(
                actor=request.user, survivor=survivor, absorbed=preview.absorbed
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            moved = ", ".join(f"{label.lower()} {n:,}" for label, n in record.moved.items())
            messages.success(
                request,
                f"#{record.absorbed_id} {record.absorbed_name} was merged into this record"
                + (f". Moved here: {moved}." if moved else "."),
            )
            for note in record.notes:
                messages.info(request, note)
            return redirect("customer-detail", pk=survivor.pk)
    comparison = (
        [(label, _value(survivor, a), _value(preview.absorbed, a)) for label, a in COMPARED]
        if preview is not None
        else []
    )
    return render(
        request,
        "customers/customer_merge.html",
        {
            "nav": "customers",
            "customer": survivor,
            "form": form,
            "preview": preview,
            "comparison": comparison,
            "suggestions": customer_duplicates(customer=survivor) if preview is None else [],
            "merges": customer_merges(customer=survivor)[:20],
        },
    )
