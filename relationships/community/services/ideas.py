"""Writes on the ideas board: propose, vote, comment (customers); status with a reply and
moderation (staff). One transaction per use case; the idea row is locked where a counter or
the status moves, so two clicks at once cannot count twice or skip the history."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from customers.errors import Conflict, ValidationFailed
from customers.models import User
from loyalty.services import points_earn_for_event

from ..markdown import render_markdown
from ..models import (
    STAFF_STATUSES,
    Idea,
    IdeaComment,
    IdeaStatus,
    IdeaStatusChange,
    IdeaVote,
)
from ._cocreation import clean_text, own_customer, require_staff

TITLE_MAX = 200
BODY_MAX = 10_000
COMMENT_MAX = 5_000
REPLY_MAX = 5_000
REASON_MAX = 300
# The loyalty event a shipped idea fires for its author's customer (loyalty.KNOWN_EVENTS).
IDEA_SHIPPED_EVENT = "idea_shipped"


def _locked(idea: Idea) -> Idea:
    return Idea.objects.select_for_update().get(pk=idea.pk)


@transaction.atomic
def idea_propose(*, user: User, title: str, body: str) -> Idea:
    customer = own_customer(user, "propose an idea")
    title = clean_text(title, field="title", label="The title", max_length=TITLE_MAX)
    body = clean_text(body, field="body", label="The description", max_length=BODY_MAX)
    return Idea.objects.create(
        customer=customer, author=user, title=title, body=body, body_html=render_markdown(body)
    )


@transaction.atomic
def idea_vote(*, user: User, idea: Idea) -> IdeaVote:
    """One vote per login and idea; not on one's own idea, a hidden one or a decided one."""
    customer = own_customer(user, "vote")
    idea = _locked(idea)
    if idea.is_hidden:
        raise ValidationFailed("This idea is hidden; it cannot take votes.")
    if idea.is_closed:
        raise Conflict(f"This idea is {idea.get_status_display().lower()}; voting has closed.")
    if idea.customer_id == customer.pk:
        raise ValidationFailed("You cannot vote for your own idea.")
    if IdeaVote.objects.filter(idea=idea, user=user).exists():
        raise Conflict("You have already voted for this idea.")
    try:
        with transaction.atomic():
            vote = IdeaVote.objects.create(idea=idea, user=user, customer=customer)
    except IntegrityError as exc:  # the same login voting from two tabs at once
        raise Conflict("You have already voted for this idea.") from exc
    Idea.objects.filter(pk=idea.pk).update(vote_count=F("vote_count") + 1)
    return vote


@transaction.atomic
def idea_unvote(*, user: User, idea: Idea) -> None:
    own_customer(user, "vote")
    idea = _locked(idea)
    if idea.is_closed:
        raise Conflict(f"This idea is {idea.get_status_display().lower()}; voting has closed.")
    deleted, _ = IdeaVote.objects.filter(idea=idea, user=user).delete()
    if not deleted:
        raise Conflict("You have not voted for this idea.")
    Idea.objects.filter(pk=idea.pk).update(vote_count=F("vote_count") - 1)


@transaction.atomic
def idea_comment(*, user: User, idea: Idea, body: str) -> IdeaComment:
    """A customer comments as their customer; staff comment as staff (shown as such)."""
    body = clean_text(body, field="body", label="The comment", max_length=COMMENT_MAX)
    if user.is_authenticated and user.is_staff_member:
        customer, is_staff = None, True
    else:
        customer, is_staff = own_customer(user, "comment"), False
    idea = _locked(idea)
    if idea.is_hidden and not is_staff:
        raise ValidationFailed("This idea is hidden; it cannot take comments.")
    comment = IdeaComment.objects.create(
        idea=idea,
        author=user,
        customer=customer,
        is_staff=is_staff,
        body=body,
        body_html=render_markdown(body),
    )
    Idea.objects.filter(pk=idea.pk).update(comment_count=F("comment_count") + 1)
    return comment


@transaction.atomic
def idea_set_status(*, actor: User, idea: Idea, status: str, reply: str) -> IdeaStatusChange:
    """Staff move an idea along with a reply the customers read. Shipping it fires the
    ``idea_shipped`` loyalty event for the author's customer, once per idea whatever
    happens to the status afterwards (the idempotency key is the idea)."""
    require_staff(actor, "change an idea's status")
    if status not in {s.value for s in STAFF_STATUSES}:
        allowed = ", ".join(s.value for s in STAFF_STATUSES)
        raise ValidationFailed(f"The status must be one of: {allowed}.", field="status")
    reply = clean_text(reply, field="reply", label="The reply", max_length=REPLY_MAX)
    idea = _locked(idea)
    if idea.status == status:
        raise Conflict(f"The idea is already {idea.get_status_display().lower()}.", field="status")
    change = IdeaStatusChange.objects.create(
        idea=idea,
        from_status=idea.status,
        to_status=status,
        reply=reply,
        reply_html=render_markdown(reply),
        changed_by=actor,
    )
    idea.status = status
    idea.status_changed_at = change.created_at
    idea.save(update_fields=["status", "status_changed_at", "updated_at"])
    if status == IdeaStatus.SHIPPED:
        points_earn_for_event(
            customer=idea.customer,
            event_code=IDEA_SHIPPED_EVENT,
            idempotency_key=f"idea:{idea.pk}",
        )
    return change


def _hide_reason(hidden: bool, reason: str) -> str:
    if not hidden:
        return ""
    return clean_text(reason, field="reason", label="The reason", max_length=REASON_MAX)


@transaction.atomic
def idea_moderate(*, actor: User, idea: Idea, hidden: bool, reason: str = "") -> Idea:
    """Hide an idea (others no longer see it; its author sees why) or show it again."""
    require_staff(actor, "moderate ideas")
    reason = _hide_reason(hidden, reason)
    idea = _locked(idea)
    idea.is_hidden, idea.hidden_reason = hidden, reason
    idea.save(update_fields=["is_hidden", "hidden_reason", "updated_at"])
    return idea


@transaction.atomic
def idea_comment_moderate(
    *, actor: User, comment: IdeaComment, hidden: bool, reason: str = ""
) -> IdeaComment:
    require_staff(actor, "moderate comments")
    reason = _hide_reason(hidden, reason)
    idea = _locked(comment.idea)
    comment = IdeaComment.objects.select_for_update().get(pk=comment.pk)
    if comment.is_hidden != hidden:
        step = -1 if hidden else 1
        Idea.objects.filter(pk=idea.pk).update(comment_count=F("comment_count") + step)
    comment.is_hidden, comment.hidden_reason = hidden, reason
    comment.save(update_fields=["is_hidden", "hidden_reason"])
    return comment
