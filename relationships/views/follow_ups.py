"""Staff pages on follow-ups: the list (paged by due date, in due windows), and adding,
rescheduling, reassigning (admins) and completing one, from the list or the customer
page. Every form works without JavaScript; over HTMX the answer is the changed item."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from customers.errors import ApplicationError
from customers.models import User
from customers.pagination import BadCursor, keyset_page, keyset_position, keyset_token
from customers.permissions import staff_required
from customers.selectors import customer_get, customers_visible_to
from customers.templatetags.keep_format import day
from customers.web import add_application_error, form_submit, safe_next, wants_fragment

from ..forms import FollowUpDoneForm, FollowUpForm, FollowUpReassignForm, FollowUpRescheduleForm
from ..models import FollowUp
from ..selectors import (
    WHEN_CHOICES,
    customer_follow_ups,
    follow_up_counts,
    follow_up_get,
    follow_ups_due_now,
    open_follow_ups,
    staff_users,
    today,
)
from ..services import (
    follow_up_add,
    follow_up_complete,
    follow_up_reassign,
    follow_up_reschedule,
)

PAGE_SIZE = 50
WHEN_VALUES = {value for value, _ in WHEN_CHOICES}


def _assignee_choice(request, params=None) -> tuple[str, User | None]:
    """(the `assignee` parameter, the user it names or None for everyone). Managers always
    see their own list; an admin's defaults to their own too. `params`: the list's query
    when it is not this request's (a quick action answering for the list it came from)."""
    actor = request.user
    if not actor.is_admin:
        return "me", actor
    value = (request.GET if params is None else params).get("assignee", "me")
    if value == "all":
        return "all", None
    if value != "me":
        found = staff_users().filter(pk=value).first() if value.isdigit() else None
        if found is not None:
            return value, found
    return "me", actor


@staff_required
def follow_up_list(request):
    actor = request.user
    when = request.GET.get("when", "all")
    when = when if when in WHEN_VALUES else "all"
    assignee_value, assignee = _assignee_choice(request)
    qs = open_follow_ups(actor=actor, assignee=assignee, when=when)
    cursor = request.GET.get("cursor", "")
    position, cursor_error = None, ""
    if cursor:
        try:
            position = keyset_position("follow-ups", cursor, FollowUp._meta.get_field("due_on"))
        except BadCursor:
            cursor_error = "That page link is not valid any more; showing the first page."
            cursor = ""
    rows = keyset_page(qs, "due_on", descending=False, position=position, limit=PAGE_SIZE + 1)
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    counts = follow_up_counts(actor=actor, assignee=assignee)
    base = [("assignee", assignee_value)] if actor.is_admin and assignee_value != "me" else []
    list_url = reverse("follow-up-list")

    def url(*params):
        query = urlencode([*base, *params])
        return f"{list_url}?{query}" if query else list_url

    tabs = [
        {
            "value": v,
            "label": label,
            "count": counts[v],
            "url": url(*([("when", v)] if v != "all" else [])),
            "current": v == when,
        }
        for v, label in WHEN_CHOICES
    ]
    when_param = [("when", when)] if when != "all" else []
    next_url = ""
    if has_next:
        last = rows[-1]
        next_url = url(*when_param, ("cursor", keyset_token("follow-ups", last.due_on, last.pk)))
    context = {
        "nav": "follow-ups",
        "items": rows,
        "tabs": tabs,
        "when": when,
        "when_label": dict(WHEN_CHOICES)[when],
        "total": counts[when],
        "page_size": PAGE_SIZE,
        "is_first_page": not cursor,
        "first_url": url(*when_param),
        "next_url": next_url,
        "cursor_error": cursor_error,
        "today": today(),
        "assignee_value": assignee_value,
        "assignee": assignee,
        "staff": list(staff_users()) if actor.is_admin else [],
        "here": request.get_full_path(),
        "place": "list",
    }
    return render(request, "relationships/follow_up_list.html", context)


def _customer_card(request, customer, *, form=None, message: str = ""):
    return render(
        request,
        "relationships/_customer_follow_ups.html",
        {
            "customer": customer,
            "follow_ups": customer_follow_ups(customer=customer),
            "follow_up_form": form or FollowUpForm(actor=request.user),
            "follow_up_message": message,
            "staff": list(staff_users()) if request.user.is_admin else [],
            "today": today(),
            "here": reverse("customer-detail", args=[customer.pk]),
            "place": "customer",
        },
    )


@staff_required
def follow_up_pick_customer(request):
    """Adding a follow-up from the list: find the customer first (by name or e-mail)."""
    q = (request.GET.get("q") or "").replace("\x00", "").strip()[:100]
    found = []
    if q:
        found = list(
            customers_visible_to(request.user)
            .filter(Q(name__icontains=q) | Q(email__icontains=q))
            .order_by("name", "id")
            .only("id", "name", "email", "company")[:20]
        )
    return render(
        request,
        "relationships/follow_up_pick_customer.html",
        {"nav": "follow-ups", "q": q, "found": found},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def follow_up_add_view(request, pk: int):
    customer = customer_get(actor=request.user, pk=pk)
    form = FollowUpForm(request.POST if request.method == "POST" else None, actor=request.user)
    fragment = wants_fragment(request)
    if request.method == "POST" and form.is_valid():
        try:
            follow_up = follow_up_add(
                actor=request.user,
                customer=customer,
                due_on=form.cleaned_data["due_on"],
                what=form.cleaned_data["what"],
                assignee=form.cleaned_data.get("assignee"),
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            message = f"Follow-up added: {follow_up.what}, due {day(follow_up.due_on)}, for {follow_up.assignee}."
            if fragment:
                return _customer_card(request, customer, message=message)
            messages.success(request, message)
            return redirect(
                safe_next(request, reverse("customer-detail", args=[pk]) + "#follow-ups")
            )
    if fragment:
        return _customer_card(request, customer, form=form)
    return render(
        request,
        "relationships/follow_up_form.html",
        {
            "nav": "follow-ups",
            "customer": customer,
            "form": form,
            "title": f"Add a follow-up for {customer.name}",
            "action": reverse("follow-up-add", args=[pk]),
            "submit": "Add follow-up",
            "back": reverse("customer-detail", args=[pk]),
        },
    )


def _counts_after(request, back: str, place: str) -> dict:
    counts: dict[str, Any] = {"oob": True, "due_now": follow_ups_due_now(user=request.user)}
    if place == "list":
        params = QueryDict(urlsplit(back).query)
        _, assignee = _assignee_choice(request, params)
        listed = follow_up_counts(actor=request.user, assignee=assignee)
        when = params.get("when", "all")
        counts.update(list_counts=listed, list_total=listed.get(when, listed["all"]))
    return counts


def _item_or_page(
    request, follow_up: FollowUp, form, *, title: str, action: str, submit: str, message: str = ""
):
    """After a change or a refusal: over HTMX the follow-up's item (with the message or the
    form's errors in it), else the form's own page (refused) or a redirect back (done)."""
    back = safe_next(request, reverse("follow-up-list"))
    if wants_fragment(request):
        place = request.POST.get("place", "list")
        context = {
            "f": follow_up,
            "place": place,
            "here": back,
            "message": message,
            "error_form": form if form is not None and form.errors else None,
            "staff": list(staff_users()) if request.user.is_admin else [],
            "today": today(),
        }
        if message:
            # The list's tab counts and total and the menu badge come along out of band,
            # so none of them is stale until a reload (only those on the page it came from).
            context.update(_counts_after(request, back, place))
        return render(request, "relationships/_follow_up_item.html", context)
    if message:
        messages.success(request, message)
        return redirect(back)
    return render(
        request,
        "relationships/follow_up_form.html",
        {
            "nav": "follow-ups",
            "customer": follow_up.customer,
            "follow_up": follow_up,
            "form": form,
            "title": title,
            "action": action,
            "submit": submit,
            "back": back,
        },
    )


def _act_on(request, pk: int, form_class, act, *, initial, done, title: str, url_name: str):
    """One change to a follow-up, as a form of its own (GET) or in place (POST): the item
    with `done(result)`, or the form again with its errors or the service's refusal."""
    follow_up = follow_up_get(actor=request.user, pk=pk)
    form = form_class(
        request.POST if request.method == "POST" else None, initial=initial(follow_up)
    )
    message = ""
    if request.method == "POST":
        changed = form_submit(form, lambda data: act(follow_up, data))
        if changed is not None:
            follow_up, message = changed, done(changed)
    return _item_or_page(
        request,
        follow_up,
        form,
        title=f"{title}: {follow_up.what}",
        action=reverse(url_name, args=[pk]),
        submit=title,
        message=message,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def follow_up_reschedule_view(request, pk: int):
    return _act_on(
        request,
        pk,
        FollowUpRescheduleForm,
        lambda follow_up, data: follow_up_reschedule(
            actor=request.user, follow_up=follow_up, due_on=data["due_on"]
        ),
        initial=lambda follow_up: {"due_on": follow_up.due_on},
        done=lambda follow_up: f"Moved to {day(follow_up.due_on)}: {follow_up.what}.",
        title="Reschedule",
        url_name="follow-up-reschedule",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def follow_up_reassign_view(request, pk: int):
    if not request.user.is_admin:
        raise PermissionDenied("Only an admin reassigns a follow-up.")
    return _act_on(
        request,
        pk,
        FollowUpReassignForm,
        lambda follow_up, data: follow_up_reassign(
            actor=request.user, follow_up=follow_up, assignee=data["assignee"]
        ),
        initial=lambda follow_up: {"assignee": follow_up.assignee_id},
        done=lambda follow_up: f"Now with {follow_up.assignee}: {follow_up.what}.",
        title="Reassign",
        url_name="follow-up-reassign",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def follow_up_done(request, pk: int):
    return _act_on(
        request,
        pk,
        FollowUpDoneForm,
        lambda follow_up, data: follow_up_complete(
            actor=request.user, follow_up=follow_up, note=data["note"]
        ),
        initial=lambda follow_up: {},
        done=lambda follow_up: f"Done: {follow_up.what}.",
        title="Mark done",
        url_name="follow-up-done",
    )
