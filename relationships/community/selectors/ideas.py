"""Who sees which ideas and comments, and the board's lists. Staff see everything (hidden
ideas marked as such); a customer sees ideas not hidden, plus their own customer's hidden
ones (with the reason); hidden comments are seen by staff and their own author only."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404

from customers.models import User
from customers.selectors import customer_of_user

from ..models import Idea, IdeaComment, IdeaStatus, IdeaStatusChange, IdeaVote

# The board's orders: name -> ORDER BY (ties broken by the newest).
IDEA_SORTS = {
    "votes": ("-vote_count", "-created_at", "-id"),
    "new": ("-created_at", "-id"),
    "status": ("status_rank", "-vote_count", "-id"),
}
# Sorting "by status" reads the road map: planned first, then under review, new, shipped,
# declined.
_STATUS_ORDER = [
    IdeaStatus.PLANNED,
    IdeaStatus.UNDER_REVIEW,
    IdeaStatus.NEW,
    IdeaStatus.SHIPPED,
    IdeaStatus.DECLINED,
]
# Staff triage the undecided first.
_TRIAGE_ORDER = [
    IdeaStatus.NEW,
    IdeaStatus.UNDER_REVIEW,
    IdeaStatus.PLANNED,
    IdeaStatus.SHIPPED,
    IdeaStatus.DECLINED,
]


def _is_staff(actor: User) -> bool:
    return bool(actor.is_authenticated and actor.is_staff_member)


def ideas_visible_to(actor: User) -> QuerySet[Idea]:
    qs = Idea.objects.all()
    if not actor.is_authenticated or not actor.is_active:
        return qs.none()
    if _is_staff(actor):
        return qs
    own = customer_of_user(user=actor)
    if own is None:
        return qs.filter(is_hidden=False)
    return qs.filter(Q(is_hidden=False) | Q(customer=own))


def idea_get(*, actor: User, pk: Any) -> Idea:
    """An idea the actor may see, or 404 (a hidden one is not there for others)."""
    try:
        return ideas_visible_to(actor).select_related("customer", "author").get(pk=pk)
    except (Idea.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such idea.") from exc


def with_my_vote(qs: QuerySet[Idea], actor: User) -> QuerySet[Idea]:
    """Each idea annotated ``my_vote``: has this login voted for it (one EXISTS, not a query
    per row)."""
    return qs.annotate(
        my_vote=Exists(IdeaVote.objects.filter(idea=OuterRef("pk"), user_id=actor.pk))
    )


def idea_board(*, actor: User, sort: str = "votes", status: str = "") -> QuerySet[Idea]:
    """The board as the actor sees it; an unknown sort or status falls back to all by votes."""
    qs = ideas_visible_to(actor).select_related("customer", "author")
    if status in IdeaStatus.values:
        qs = qs.filter(status=status)
    order = IDEA_SORTS.get(sort, IDEA_SORTS["votes"])
    qs = qs.annotate(status_rank=_status_rank(_STATUS_ORDER))
    return with_my_vote(qs, actor).order_by(*order)


def _status_rank(order: list[IdeaStatus]) -> Case:
    return Case(
        *[When(status=s, then=Value(i)) for i, s in enumerate(order)],
        output_field=IntegerField(),
    )


def comments_visible_to(actor: User) -> QuerySet[IdeaComment]:
    """Comments on ideas the actor sees; hidden ones only to staff and their author."""
    qs = IdeaComment.objects.filter(idea__in=ideas_visible_to(actor))
    if _is_staff(actor):
        return qs
    return qs.filter(Q(is_hidden=False) | Q(author_id=actor.pk))


def idea_comments(*, actor: User, idea: Idea) -> QuerySet[IdeaComment]:
    return comments_visible_to(actor).filter(idea=idea).select_related("author")


def comment_get(*, actor: User, pk: Any) -> IdeaComment:
    try:
        return comments_visible_to(actor).select_related("idea", "author").get(pk=pk)
    except (IdeaComment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such comment.") from exc


def idea_history(*, idea: Idea) -> QuerySet[IdeaStatusChange]:
    """The status changes with their replies, oldest first (public with the idea)."""
    return idea.status_changes.select_related("changed_by")


def idea_triage(*, actor: User, status: str = "") -> QuerySet[Idea]:
    """Staff's list: every idea, the undecided ones first, then the most wanted."""
    if not _is_staff(actor):
        return Idea.objects.none()
    qs = Idea.objects.select_related("customer", "author")
    if status in IdeaStatus.values:
        qs = qs.filter(status=status)
    return qs.annotate(status_rank=_status_rank(_TRIAGE_ORDER)).order_by(
        "status_rank", "-vote_count", "-id"
    )
