"""The customer's support pages under /my/support/: my requests, open one, the thread
(reply, reopen, rate) and attachments. Every lookup goes through the `portal_*`
selectors, within the customer of the login: another customer's id is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from customers.models import Customer
from customers.permissions import customer_portal
from customers.web import form_submit

from . import services
from .forms import RateForm, ReopenForm, ReplyForm, RequestForm
from .models import SupportMessage
from .selectors import portal_attachment, portal_support_request, portal_support_requests

PER_PAGE = 20


def serve_attachment(message: SupportMessage) -> FileResponse:
    """Sent as a download under its checked type, never rendered inline as the browser
    guesses it (a text file cannot become a page)."""
    return FileResponse(
        message.attachment.open("rb"),
        as_attachment=True,
        filename=message.attachment_name or "attachment",
        content_type=message.attachment_type or "application/octet-stream",
    )


@customer_portal
def request_list(request, customer: Customer) -> HttpResponse:
    # Bound on every POST, even an empty one, so missing fields are named.
    form = RequestForm(request.POST, request.FILES) if request.method == "POST" else RequestForm()
    status = 200
    if request.method == "POST":
        created = form_submit(
            form,
            lambda data: services.support_request_open(
                customer=customer,
                author=request.user,
                category=data["category"],
                subject=data["subject"],
                body=data["body"],
                attachment=data["attachment"],
            ),
        )
        if created is not None:
            messages.success(
                request,
                f"Sent: your request #{created.pk} is with our team. We will answer here "
                "and tell you by e-mail.",
            )
            return redirect("portal-support-detail", pk=created.pk)
        status = 400
    page = Paginator(portal_support_requests(customer=customer), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"nav": "support", "page": page, "form": form, "show_form": status == 400}
    return render(request, "portal/support_list.html", context, status=status)


def _detail(request, customer: Customer, pk: int, *, status: int = 200, **forms) -> HttpResponse:
    support_request = portal_support_request(customer=customer, pk=pk)
    context = {
        "nav": "support",
        "req": support_request,
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "reopen_form": forms.get("reopen_form") or ReopenForm(),
        "rate_form": forms.get("rate_form") or RateForm(),
    }
    return render(request, "portal/support_detail.html", context, status=status)


@customer_portal
def request_detail(request, customer: Customer, pk: int) -> HttpResponse:
    return _detail(request, customer, pk)


def _act(request, customer: Customer, pk: int, form, act, *, done: str, form_name: str):
    """One of the customer's actions on their request: back to the thread with `done`, or
    the thread again (400) with the form's errors or the service's refusal."""
    support_request = portal_support_request(customer=customer, pk=pk)
    if form_submit(form, lambda data: act(support_request, data)) is not None:
        messages.success(request, done)
        return redirect("portal-support-detail", pk=pk)
    return _detail(request, customer, pk, status=400, **{form_name: form})


@customer_portal
@require_POST
def request_reply(request, customer: Customer, pk: int) -> HttpResponse:
    return _act(
        request,
        customer,
        pk,
        ReplyForm(request.POST, request.FILES),
        lambda req, data: services.support_customer_reply(
            request=req, author=request.user, body=data["body"], attachment=data["attachment"]
        ),
        done="Sent: your reply is in the thread below.",
        form_name="reply_form",
    )


@customer_portal
@require_POST
def request_reopen(request, customer: Customer, pk: int) -> HttpResponse:
    return _act(
        request,
        customer,
        pk,
        ReopenForm(request.POST),
        lambda req, data: services.support_reopen(
            request=req, author=request.user, body=data["body"]
        ),
        done="Reopened: our team will look at it again.",
        form_name="reopen_form",
    )


@customer_portal
@require_POST
def request_rate(request, customer: Customer, pk: int) -> HttpResponse:
    return _act(
        request,
        customer,
        pk,
        RateForm(request.POST),
        lambda req, data: services.support_rate(
            request=req, author=request.user, rating=data["rating"], comment=data["comment"]
        ),
        done="Thank you: your rating is saved.",
        form_name="rate_form",
    )


@customer_portal
def attachment(request, customer: Customer, pk: int, message_pk: int) -> FileResponse:
    return serve_attachment(portal_attachment(customer=customer, request_pk=pk, pk=message_pk))


urlpatterns = [
    path("my/support/", request_list, name="portal-support"),
    path("my/support/<int:pk>/", request_detail, name="portal-support-detail"),
    path("my/support/<int:pk>/reply/", request_reply, name="portal-support-reply"),
    path("my/support/<int:pk>/reopen/", request_reopen, name="portal-support-reopen"),
    path("my/support/<int:pk>/rate/", request_rate, name="portal-support-rate"),
    path(
        "my/support/<int:pk>/files/<int:message_pk>/",
        attachment,
        name="portal-support-attachment",
    ),
]
