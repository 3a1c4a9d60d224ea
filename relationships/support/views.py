"""Staff support pages under /support/: the queue (open / waiting on customer / resolved,
mine / unassigned / all) and one request (reply or internal note, status, take, a
complaint's root cause). Visibility from selectors.support_requests_visible_to."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from customers.errors import ApplicationError
from customers.permissions import staff_required
from customers.web import form_submit

from . import services
from .forms import RootCauseForm, StaffReplyForm, StatusForm
from .portal import serve_attachment
from .selectors import (
    QUEUES,
    SCOPES,
    staff_attachment,
    staff_support_request,
    support_queue,
    support_queue_counts,
)

PER_PAGE = 30


@staff_required
def queue(request) -> HttpResponse:
    status = request.GET.get("status", "open")
    status = status if status in QUEUES else "open"
    scope = request.GET.get("scope", "all")
    scope = scope if scope in SCOPES else "all"
    counts = support_queue_counts(actor=request.user)
    rows = support_queue(actor=request.user, status=status, scope=scope)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "nav": "support",
        "page": page,
        "status": status,
        "scope": scope,
        "tabs": [(key, label, counts[key]) for key, label in QUEUES.items()],
        "scopes": SCOPES,
    }
    return render(request, "relationships/support_queue.html", context)


def _detail(request, pk: int, *, status: int = 200, **forms) -> HttpResponse:
    req = staff_support_request(actor=request.user, pk=pk)
    root_form = forms.get("root_form") or RootCauseForm(
        initial={"root_cause": req.interaction.root_cause_id}
    )
    context = {
        "nav": "support",
        "req": req,
        "reply_form": forms.get("reply_form") or StaffReplyForm(),
        "status_form": forms.get("status_form") or StatusForm(initial={"status": req.status}),
        "root_form": root_form,
    }
    return render(request, "relationships/support_detail.html", context, status=status)


@staff_required
def detail(request, pk: int) -> HttpResponse:
    return _detail(request, pk)


def _act(request, pk: int, form, act, *, done, form_name: str) -> HttpResponse:
    """One staff action on a request: back to it with `done(result)`, or the request again
    (400) with the form's errors or the service's refusal."""
    req = staff_support_request(actor=request.user, pk=pk)
    result = form_submit(form, lambda data: act(req, data))
    if result is not None:
        messages.success(request, done(result))
        return redirect("support-detail", pk=pk)
    return _detail(request, pk, status=400, **{form_name: form})


@staff_required
@require_POST
def reply(request, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        StaffReplyForm(request.POST, request.FILES),
        lambda req, data: services.support_staff_reply(
            request=req,
            actor=request.user,
            body=data["body"],
            internal=data["internal"],
            attachment=data["attachment"],
        ),
        done=lambda message: (
            "Saved: the internal note is for staff only."
            if message.internal
            else f"Sent: {message.request.customer} sees your reply and gets an e-mail."
        ),
        form_name="reply_form",
    )


@staff_required
@require_POST
def status_set(request, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        StatusForm(request.POST),
        lambda req, data: services.support_status_set(
            request=req, actor=request.user, status=data["status"]
        ),
        done=lambda req: f"Saved: the request is now “{req.get_status_display()}”.",
        form_name="status_form",
    )


@staff_required
@require_POST
def take(request, pk: int) -> HttpResponse:
    req = staff_support_request(actor=request.user, pk=pk)
    try:
        services.support_take(request=req, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Taken: the request is yours now.")
    return redirect("support-detail", pk=pk)


@staff_required
@require_POST
def root_cause(request, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        RootCauseForm(request.POST),
        lambda req, data: services.support_root_cause_set(
            request=req, actor=request.user, root_cause=data["root_cause"]
        ),
        done=lambda req: "Saved: the complaint's root cause now counts in the defection analysis.",
        form_name="root_form",
    )


@staff_required
def attachment(request, pk: int, message_pk: int) -> FileResponse:
    return serve_attachment(staff_attachment(actor=request.user, request_pk=pk, pk=message_pk))


urlpatterns = [
    path("support/", queue, name="support-queue"),
    path("support/<int:pk>/", detail, name="support-detail"),
    path("support/<int:pk>/reply/", reply, name="support-reply"),
    path("support/<int:pk>/status/", status_set, name="support-status"),
    path("support/<int:pk>/take/", take, name="support-take"),
    path("support/<int:pk>/root-cause/", root_cause, name="support-root-cause"),
    path("support/<int:pk>/files/<int:message_pk>/", attachment, name="support-attachment"),
]
