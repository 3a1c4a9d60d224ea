"""Staff pages on customers: the list, and the forms that add, change and reassign a
customer or record a purchase. Thin views over customers.selectors and customers.services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from ..access import customer_portal_invite
from ..errors import ApplicationError, DuplicateEmail
from ..filters import SORT_CHOICES, list_extension_params, sort_or_default
from ..forms import CustomerForm, PurchaseForm, ReassignForm
from ..pagination import BadCursor, capped_count, customer_page, decode_cursor, encode_cursor
from ..permissions import staff_required
from ..selectors import (
    CUSTOMER_LIST_FIELDS,
    customer_filterset,
    customer_get,
    customer_list_rows,
    tag_names,
)
from ..services import customer_create, customer_reassign, customer_update, purchase_record
from ..web import add_application_error, site_base_url, wants_fragment

PAGE_SIZE = 50
COUNT_CAP = 10_000
# A text search is checked row by row after the trigram index (GIN cannot count on its
# own), so its count stops earlier: "1,000+" is as useful to a person as "31,942".
SEARCH_COUNT_CAP = 1_000
FILTER_LABELS = {
    "segment": "Segment",
    "stage": "Stage",
    "status": "Status",
    "account_manager": "Manager",
}


def _query_without(request, *drop: str) -> str:
    params = [(k, v) for k, v in request.GET.items() if k not in drop and v != ""]
    return urlencode(params)


def _filter_selects(form) -> list[dict]:
    """The filter bar's drop-downs as plain (value, label, selected) options, "Any" first.
    Django's select widget renders a template per option and reads model choices through
    a server-side cursor per field; the list page renders four of them on every request."""
    selects = []
    for name in ("segment", "stage", "status", "account_manager"):
        if name not in form.fields:
            continue
        field = form.fields[name]
        value = form[name].value()
        current = "" if value is None else str(value)
        queryset = getattr(field, "queryset", None)
        if queryset is not None:
            choices = [(str(obj.pk), field.label_from_instance(obj)) for obj in list(queryset)]
        else:
            choices = [(str(v), str(label)) for v, label in field.choices if v != ""]
        selects.append(
            {
                "name": name,
                "id": f"id_{name}",
                "label": FILTER_LABELS[name],
                "invalid": name in form.errors,
                "options": [
                    ("", "Any", current == ""),
                    *((v, lbl, v == current) for v, lbl in choices),
                ],
            }
        )
    return selects


def _results_total(qs, *, searching: bool, counting: bool, first_page_rows: int | None) -> dict:
    """What the results head says about how many customers match.

    A first page that is not full is the whole answer, so it is counted without a query.
    Otherwise the filters are counted up to COUNT_CAP (an index scan that stops there).
    A text search is not counted unless asked for (`count=1`): the trigram match has to
    be checked row by row, which cost 35-110 ms on a million customers even stopped at
    1,000 rows, so the page says "50+" and offers a link that counts up to SEARCH_COUNT_CAP.
    A set narrowed by another app (the customers lost in a month) is counted the same way:
    a few percent of the book, tested customer by customer, is as slow to count."""
    if first_page_rows is not None:
        return {"total": first_page_rows, "total_capped": False, "count_cap": COUNT_CAP}
    if searching and not counting:
        return {"total": None, "total_capped": False, "count_cap": SEARCH_COUNT_CAP}
    cap = SEARCH_COUNT_CAP if searching else COUNT_CAP
    total = capped_count(qs, cap)
    return {"total": total, "total_capped": total > cap, "count_cap": cap}


@staff_required
def customer_list(request):
    sort = sort_or_default(request.GET.get("sort"))
    filterset = customer_filterset(actor=request.user, data=request.GET)
    qs = filterset.qs
    cursor = request.GET.get("cursor", "")
    position = None
    cursor_error = ""
    if cursor:
        try:
            position = decode_cursor(sort, cursor)
        except BadCursor:
            cursor_error = "That page link is not valid any more; showing the first page."
            cursor = ""
    # A set another app narrowed the list to (the customers behind a dashboard figure)
    # is tested on another table: the page walks ids first, and it is counted on request
    # only, like a search (its heading gives the figure it came from).
    narrowed = bool(filterset.captions)
    customers = customer_page(
        qs.only(*CUSTOMER_LIST_FIELDS), sort, position, PAGE_SIZE + 1, ids_first=narrowed
    )
    has_next = len(customers) > PAGE_SIZE
    customers = customers[:PAGE_SIZE]
    searching = narrowed or bool((request.GET.get("q") or "").strip())
    totals = _results_total(
        qs,
        searching=searching,
        counting=bool(request.GET.get("count")),
        first_page_rows=len(customers) if not cursor and not has_next else None,
    )
    rows = customer_list_rows(customers=customers)
    for row in rows:
        row["url"] = reverse("customer-detail", args=[row["pk"]])
    list_url = reverse("customer-list")
    base_query = _query_without(request, "cursor")
    next_url = ""
    if has_next:
        keep = [(k, v) for k, v in request.GET.items() if k not in {"cursor", "sort"} and v != ""]
        next_query = urlencode(
            [*keep, ("sort", sort), ("cursor", encode_cursor(sort, customers[-1]))]
        )
        next_url = f"{list_url}?{next_query}"
    fragment = wants_fragment(request)
    context = {
        "nav": "customers",
        "filterset": filterset,
        "rows": rows,
        "sort": sort,
        "sort_choices": SORT_CHOICES,
        **totals,
        "page_size": PAGE_SIZE,
        "count_url": f"{list_url}?{urlencode([*request.GET.items(), ('count', '1')])}"
        if totals["total"] is None
        else "",
        "is_first_page": not cursor,
        "next_url": next_url,
        "first_url": f"{list_url}?{base_query}" if base_query else list_url,
        "export_url": f"{reverse('customer-export')}?{_query_without(request, 'cursor')}",
        "cursor_error": cursor_error,
    }
    if not fragment:
        # The filter bar is only drawn with the whole page; an HTMX swap (every pause in
        # typing a search) replaces the results and needs none of its choices.
        context["filter_selects"] = _filter_selects(filterset.form)
        # A set another app narrowed the list to (the customers behind a dashboard
        # number) stays while the other filters change.
        context["kept_params"] = [
            (name, request.GET[name]) for name in list_extension_params() if request.GET.get(name)
        ]
        context["tag_names"] = tag_names()
    template = "customers/_customer_results.html" if fragment else "customers/customer_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@staff_required
@require_http_methods(["GET", "POST"])
def customer_create_view(request):
    form = CustomerForm(request.POST or None, actor=request.user)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        try:
            customer = customer_create(
                actor=request.user,
                # The "Save anyway" button of the duplicate e-mail warning.
                allow_duplicate_email=request.POST.get("allow_duplicate_email") == "1",
                **kwargs,
            )
        except DuplicateEmail as exc:
            duplicate = exc
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"{customer} was added.")
            return redirect("customer-detail", pk=customer.pk)
    return render(
        request,
        "customers/customer_form.html",
        {
            "nav": "customers",
            "form": form,
            "customer": None,
            "duplicate": duplicate,
            "existing_customer": duplicate.extra["existing_customer"] if duplicate else None,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def customer_edit_view(request, pk: int):
    customer = customer_get(actor=request.user, pk=pk)
    # The form works on its own copy so a rejected edit does not show on the page title.
    form = CustomerForm(
        request.POST or None, instance=customer_get(actor=request.user, pk=pk), actor=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(actor=request.user, customer=customer, **form.service_kwargs())
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"{customer} was saved.")
            return redirect("customer-detail", pk=customer.pk)
    return render(
        request,
        "customers/customer_form.html",
        {"nav": "customers", "form": form, "customer": customer},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def customer_reassign_view(request, pk: int):
    customer = customer_get(actor=request.user, pk=pk)
    if not request.user.is_admin:
        raise PermissionDenied("Only an admin can reassign customers.")
    form = ReassignForm(
        request.POST or None, initial={"account_manager": customer.account_manager_id}
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer_reassign(
                actor=request.user,
                customer=customer,
                account_manager=form.cleaned_data["account_manager"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request, f"{customer} is now managed by {customer.account_manager or 'nobody'}."
            )
            return redirect("customer-detail", pk=customer.pk)
    return render(
        request,
        "customers/customer_reassign.html",
        {"nav": "customers", "form": form, "customer": customer},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def purchase_create_view(request, pk: int):
    customer = customer_get(actor=request.user, pk=pk)
    form = PurchaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            purchase = purchase_record(actor=request.user, customer=customer, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Purchase {purchase.reference} was recorded.")
            return redirect("customer-detail", pk=customer.pk)
    return render(
        request,
        "customers/purchase_form.html",
        {"nav": "customers", "form": form, "customer": customer},
    )


@staff_required
@require_POST
def customer_portal_invite_view(request, pk: int):
    """Open the portal to this customer (or mail the link again): customers.access."""
    customer = customer_get(actor=request.user, pk=pk)
    try:
        invitation = customer_portal_invite(
            actor=request.user, customer=customer, base_url=site_base_url(request)
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        email = invitation.user.email
        if not invitation.mailed:
            messages.error(
                request,
                f"The portal login for {email} is ready, but the mail did not leave: "
                "use “Send the invitation again”.",
            )
        elif invitation.again:
            messages.success(request, f"The invitation went to {email} again.")
        else:
            messages.success(
                request,
                f"{customer} is invited to the portal: a link to choose a password is on its "
                f"way to {email}.",
            )
    return redirect("customer-detail", pk=customer.pk)
