"""Admin pages to upload a CSV, watch its import progress and read the bad rows."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..errors import ApplicationError
from ..imports import (
    bad_row_count,
    import_job_confirm,
    import_job_create,
    read_upload,
    template_csv,
)
from ..models import ImportJob, ImportKind, ImportMatch, ImportMode, ImportStatus
from ..permissions import admin_required
from ..tasks import import_enqueue, import_send


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportKind.choices, widget=forms.RadioSelect, initial=ImportKind.CUSTOMERS
    )
    mode = forms.ChoiceField(
        choices=ImportMode.choices, widget=forms.RadioSelect, initial=ImportMode.ALL_OR_NOTHING
    )
    match_on = forms.ChoiceField(
        choices=ImportMatch.choices,
        widget=forms.RadioSelect,
        initial=ImportMatch.EXTERNAL_ID,
        required=False,
        label="Customers already in the CRM",
        help_text="A matched row updates that customer; importing the same file twice "
        "then creates nothing new. Purchases are never matched.",
    )
    check_only = forms.BooleanField(
        required=False,
        initial=True,
        label="Check the file first and show me what would be created and updated",
    )
    file = forms.FileField(label="CSV file (UTF-8)")


QUEUED = "The import is queued and starts as soon as a worker picks it up."
BROKER_DOWN = (
    "The import is saved, but the task queue could not be reached. It is sent again "
    "automatically within a minute of the queue coming back, and will start when the "
    "worker is back; this page follows it."
)
ALREADY_SENT = "This import is already with the worker (or being sent); it was not sent twice."


def _jobs():
    # The file itself (up to CRM_IMPORT_MAX_BYTES) is for the task, not for the pages,
    # which the progress bar polls every second.
    return ImportJob.objects.defer("content")


@admin_required
def import_list(request):
    page = Paginator(_jobs().select_related("created_by"), 25).get_page(request.GET.get("page"))
    rows = [(job, bad_row_count(job)) for job in page]
    return render(
        request,
        "customers/imports/import_list.html",
        {"nav": "imports", "page": page, "rows": rows},
    )


@admin_required
def import_create(request):
    bound = request.method == "POST"
    form = ImportForm(request.POST if bound else None, request.FILES if bound else None)
    if bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                mode=form.cleaned_data["mode"],
                match_on=form.cleaned_data["match_on"] or ImportMatch.NONE,
                check_only=form.cleaned_data["check_only"],
                filename=upload.name,
                data=read_upload(upload),
            )
        except ApplicationError as exc:
            form.add_error("file" if exc.field is None else exc.field, exc.message)
        else:
            outcome = import_enqueue(job.pk)
            job.refresh_from_db(fields=["status"])
            if outcome.get("queued") is False:
                messages.warning(request, BROKER_DOWN)
            elif not job.is_finished:  # without a broker it has already run
                messages.success(request, QUEUED)
            return redirect("import-detail", pk=job.pk)
    return render(
        request,
        "customers/imports/import_form.html",
        {"nav": "imports", "form": form, "kinds": ImportKind.choices},
    )


def _status_context(job: ImportJob) -> dict:
    return {
        "job": job,
        "bad_rows": bad_row_count(job),
        "writing": (job.status == ImportStatus.RUNNING and job.processed_rows >= job.total_rows),
    }


@admin_required
def import_detail(request, pk: int):
    job = get_object_or_404(_jobs().select_related("created_by"), pk=pk)
    return render(
        request, "customers/imports/import_detail.html", {"nav": "imports", **_status_context(job)}
    )


@admin_required
def import_progress(request, pk: int):
    job = get_object_or_404(_jobs(), pk=pk)
    return render(request, "customers/imports/_status.html", _status_context(job))


@admin_required
@require_POST
def import_send_again(request, pk: int):
    job = get_object_or_404(_jobs(), pk=pk)
    if job.status != ImportStatus.PENDING:
        messages.info(request, "This import is no longer waiting; there is nothing to send.")
        return redirect("import-detail", pk=job.pk)
    sent = import_send(job.pk)
    if sent:
        messages.success(request, QUEUED)
    elif sent is None:
        messages.info(request, ALREADY_SENT)
    else:
        messages.warning(request, BROKER_DOWN)
    return redirect("import-detail", pk=job.pk)


@admin_required
@require_POST
def import_confirm(request, pk: int):
    """The admin's go after a check: the file is checked again and written."""
    job = get_object_or_404(_jobs(), pk=pk)
    try:
        import_job_confirm(actor=request.user, job=job)
    except ApplicationError as exc:
        messages.info(request, exc.message)
        return redirect("import-detail", pk=job.pk)
    outcome = import_enqueue(job.pk)
    job.refresh_from_db(fields=["status"])
    if outcome.get("queued") is False:
        messages.warning(request, BROKER_DOWN)
    elif not job.is_finished:
        messages.success(request, QUEUED)
    else:
        messages.success(request, "Imported.")
    return redirect("import-detail", pk=job.pk)


@admin_required
def import_template(request, kind: str):
    if kind not in ImportKind.values:
        raise Http404("No such import kind.")
    response = HttpResponse(template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
