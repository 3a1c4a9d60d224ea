"""Staff pages on at-risk flags: marking one handled, from the queue or the customer page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from customers.errors import ApplicationError
from customers.permissions import staff_required
from customers.web import add_application_error, safe_next, wants_fragment

from ..forms import RiskFlagHandleForm
from ..selectors import risk_flag_get
from ..services import risk_flag_handle


@staff_required
@require_http_methods(["GET", "POST"])
def risk_flag_handle_view(request, pk: int):
    """GET shows the form on its own page (the link without JavaScript); POST marks the
    flag handled and goes back. Over HTMX the answer is the flag's handling block, swapped
    in place on the queue row or the risk panel. A flag outside the actor's book is a 404."""
    flag = risk_flag_get(actor=request.user, pk=pk)
    back = safe_next(request, reverse("at-risk"))
    form = RiskFlagHandleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            flag = risk_flag_handle(actor=request.user, flag=flag, note=form.cleaned_data["note"])
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            if wants_fragment(request):
                return render(
                    request,
                    "relationships/_risk_handle.html",
                    {
                        "flag": flag,
                        "form": RiskFlagHandleForm(),
                        "back": back,
                        "just_handled": True,
                    },
                )
            messages.success(request, f"{flag.customer.name}: marked handled.")
            return redirect(back)
    context = {"nav": "at-risk", "flag": flag, "form": form, "back": back, "open_form": True}
    if wants_fragment(request):
        return render(request, "relationships/_risk_handle.html", context)
    return render(request, "relationships/risk_flag_handle.html", context)
