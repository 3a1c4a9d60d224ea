"""The ideas board's pages: the board, an idea with its comments, the propose form (for
customers, in the portal's look), and the staff's forms on the idea page (status with a
reply, hiding). Visibility comes from the selectors; every write goes through a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from customers.errors import ApplicationError
from customers.permissions import staff_required
from customers.selectors import customer_of_user, customers_visible_to
from customers.web import add_application_error

from .. import selectors, services
from ..models import IdeaStatus
from .cocreation_forms import CommentForm, IdeaForm, IdeaStatusForm, ModerateForm

BOARD_PAGE = 30
SORTS = [("votes", "Most votes"), ("new", "Newest"), ("status", "By status")]


def _customer_or_403(request):
    customer = customer_of_user(user=request.user)
    if customer is None:
        raise PermissionDenied("Only a customer with a linked account can do this.")
    return customer


@login_required
def idea_list(request):
    sort = request.GET.get("sort", "votes")
    sort = sort if sort in selectors.IDEA_SORTS else "votes"
    status = request.GET.get("status", "")
    status = status if status in IdeaStatus.values else ""
    board = selectors.idea_board(actor=request.user, sort=sort, status=status)
    page = Paginator(board, BOARD_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "community/ideas/board.html",
        {
            "nav": "ideas",
            "page": page,
            "sort": sort,
            "sorts": SORTS,
            "status": status,
            "statuses": IdeaStatus.choices,
            "can_propose": customer_of_user(user=request.user) is not None,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def idea_create(request):
    _customer_or_403(request)
    form = IdeaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            idea = services.idea_propose(user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Thank you: your idea is on the board.")
            return redirect("community:idea-detail", idea.pk)
    return render(request, "community/ideas/propose.html", {"nav": "ideas", "form": form})


def _detail(request, idea, *, comment_form=None, status_form=None, moderate_form=None, status=200):
    user = request.user
    is_staff = user.is_staff_member
    own = customer_of_user(user=user)
    context = {
        "nav": "ideas",
        "idea": idea,
        "my_vote": idea.votes.filter(user_id=user.pk).exists(),
        "comments": selectors.idea_comments(actor=user, idea=idea),
        "history": selectors.idea_history(idea=idea),
        "is_own": own is not None and own.pk == idea.customer_id,
        "can_vote": own is not None and own.pk != idea.customer_id and not idea.is_hidden,
        "can_comment": is_staff or (own is not None and not idea.is_hidden),
        "comment_form": comment_form or CommentForm(),
        "is_staff": is_staff,
        # Staff see the CRM record behind the idea only when it is in their book.
        "crm_customer": customers_visible_to(user).filter(pk=idea.customer_id).first()
        if is_staff
        else None,
    }
    if is_staff:
        context["status_form"] = status_form or IdeaStatusForm(
            initial={"status": _next_status(idea.status)}
        )
        context["moderate_form"] = moderate_form or ModerateForm(
            initial={"hidden": "0" if idea.is_hidden else "1"}
        )
    return render(request, "community/ideas/detail.html", context, status=status)


def _next_status(status: str) -> str:
    following: dict[str, str] = {
        IdeaStatus.NEW: IdeaStatus.UNDER_REVIEW,
        IdeaStatus.UNDER_REVIEW: IdeaStatus.PLANNED,
        IdeaStatus.PLANNED: IdeaStatus.SHIPPED,
    }
    return following.get(status, IdeaStatus.UNDER_REVIEW)


@login_required
def idea_detail(request, pk):
    return _detail(request, selectors.idea_get(actor=request.user, pk=pk))


@require_POST
@login_required
def idea_vote(request, pk):
    """Vote, or take the vote back (``action=unvote``); either way back to where it came from."""
    idea = selectors.idea_get(actor=request.user, pk=pk)
    _customer_or_403(request)
    try:
        if request.POST.get("action") == "unvote":
            services.idea_unvote(user=request.user, idea=idea)
            messages.success(request, "Your vote is withdrawn.")
        else:
            services.idea_vote(user=request.user, idea=idea)
            messages.success(request, "Thank you for your vote.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    if back.startswith("/community/ideas/") and "//" not in back:
        return redirect(back)
    return redirect("community:idea-detail", idea.pk)


@require_POST
@login_required
def idea_comment(request, pk):
    idea = selectors.idea_get(actor=request.user, pk=pk)
    if not request.user.is_staff_member:
        _customer_or_403(request)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.idea_comment(user=request.user, idea=idea, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Your comment is posted.")
            return redirect("community:idea-detail", idea.pk)
    return _detail(request, idea, comment_form=form)


@require_POST
@staff_required
def idea_status(request, pk):
    idea = selectors.idea_get(actor=request.user, pk=pk)
    form = IdeaStatusForm(request.POST)
    if form.is_valid():
        try:
            services.idea_set_status(actor=request.user, idea=idea, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Status changed; the reply is on the idea.")
            return redirect("community:idea-detail", idea.pk)
    return _detail(request, idea, status_form=form)


@require_POST
@staff_required
def idea_moderate(request, pk):
    idea = selectors.idea_get(actor=request.user, pk=pk)
    form = ModerateForm(request.POST)
    if form.is_valid():
        try:
            services.idea_moderate(actor=request.user, idea=idea, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request, "Idea hidden." if form.cleaned_data["hidden"] else "Idea shown again."
            )
            return redirect("community:idea-detail", idea.pk)
    return _detail(request, idea, moderate_form=form)


@require_POST
@staff_required
def comment_moderate(request, pk):
    comment = selectors.comment_get(actor=request.user, pk=pk)
    form = ModerateForm(request.POST)
    if form.is_valid():
        try:
            services.idea_comment_moderate(actor=request.user, comment=comment, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, "Comment hidden." if form.cleaned_data["hidden"] else "Comment shown."
            )
    else:
        messages.error(request, "Choose hide or show.")
    return redirect("community:idea-detail", comment.idea_id)
