"""Moderation: reports, the approval of held posts, hiding and restoring, locking, pinning
and moving topics, posting bans. Every action writes a ModerationAction row in its own
transaction, and the author hears of what happened to their post."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import User

from ..models import (
    Category,
    ModerationActionKind,
    NotificationKind,
    Post,
    PostingBan,
    PostStatus,
    Report,
    Topic,
)
from ..selectors import (
    Actor,
    active_ban,
    categories_visible_to,
    moderates_everything,
    posts_visible_to,
)
from ._common import (
    clean_text,
    log_action,
    notify,
    refresh_topic_counters,
    require_moderator,
    signed_in,
)
from .forums import announce_reply


def _locked_post(post: Post) -> Post:
    return (
        Post.objects.select_for_update()
        .select_related("topic", "topic__category", "author")
        .get(pk=post.pk)
    )


def _reason(reason: str, *, required: bool) -> str:
    return clean_text(reason, field="reason", max_length=500, label="reason", required=required)


def _resolve_reports(post: Post, user: User, outcome: str) -> int:
    return Report.objects.filter(post=post, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=user, outcome=outcome
    )


def _set_status(post: Post, status: str) -> None:
    post.status = status
    post.save(update_fields=["status"])
    if post.number == 1:
        # The opening post carries its topic with it.
        Topic.objects.filter(pk=post.topic_id).update(status=status)
        post.topic.status = status
    refresh_topic_counters(post.topic)


def post_report(*, actor: Actor, post: Post, reason: str) -> Report:
    """Anyone who reads a post may flag it once (until a moderator resolves the flag)."""
    reason = _reason(reason, required=True)
    user = signed_in(actor)
    if not posts_visible_to(user).filter(pk=post.pk).exists():
        raise NotAllowed("You cannot report this post.")
    if post.author_id == user.pk:
        raise ValidationFailed("You cannot report your own post.")
    try:
        with transaction.atomic():
            return Report.objects.create(post=post, reporter=user, reason=reason)
    except IntegrityError as exc:
        raise Conflict("You have already reported this post; a moderator will look at it.") from exc


def post_approve(*, actor: Actor, post: Post) -> Post:
    with transaction.atomic():
        post = _locked_post(post)
        user = require_moderator(actor, post.topic)
        if post.status != PostStatus.HELD:
            raise Conflict("This post is not waiting for approval.")
        _set_status(post, PostStatus.VISIBLE)
        log_action(
            actor=user,
            kind=ModerationActionKind.APPROVE,
            topic=post.topic,
            post=post,
            target_user=post.author,
        )
        notify(
            recipients=[post.author],
            kind=NotificationKind.APPROVED,
            topic=post.topic,
            post=post,
            text=f"Your post in “{post.topic.title}” was approved",
        )
        if post.number > 1:
            announce_reply(post)
    return post


def post_reject(*, actor: Actor, post: Post, reason: str = "") -> Post:
    """A held post that will not be published: hidden, with the reason for its author."""
    with transaction.atomic():
        post = _locked_post(post)
        user = require_moderator(actor, post.topic)
        reason = _reason(reason, required=False)
        if post.status != PostStatus.HELD:
            raise Conflict("This post is not waiting for approval.")
        _set_status(post, PostStatus.HIDDEN)
        _resolve_reports(post, user, "rejected")
        log_action(
            actor=user,
            kind=ModerationActionKind.REJECT,
            topic=post.topic,
            post=post,
            target_user=post.author,
            reason=reason,
        )
        notify(
            recipients=[post.author],
            kind=NotificationKind.MODERATED,
            topic=post.topic,
            post=post,
            text=f"Your post in “{post.topic.title}” was not approved"
            + (f": {reason}" if reason else ""),
        )
    return post


def post_hide(*, actor: Actor, post: Post, reason: str) -> Post:
    """Hidden from everyone but its author and moderators; open reports are resolved."""
    with transaction.atomic():
        post = _locked_post(post)
        user = require_moderator(actor, post.topic)
        reason = _reason(reason, required=True)
        if post.status == PostStatus.HIDDEN:
            raise Conflict("This post is already hidden.")
        _set_status(post, PostStatus.HIDDEN)
        reports = _resolve_reports(post, user, "hidden")
        log_action(
            actor=user,
            kind=ModerationActionKind.HIDE,
            topic=post.topic,
            post=post,
            target_user=post.author,
            reason=reason,
            details={"reports_resolved": reports},
        )
        notify(
            recipients=[post.author],
            kind=NotificationKind.MODERATED,
            topic=post.topic,
            post=post,
            text=f"A moderator hid your post in “{post.topic.title}”: {reason}",
            email_to=[post.author],
        )
    return post


def post_restore(*, actor: Actor, post: Post, reason: str = "") -> Post:
    with transaction.atomic():
        post = _locked_post(post)
        user = require_moderator(actor, post.topic)
        reason = _reason(reason, required=False)
        if post.status != PostStatus.HIDDEN:
            raise Conflict("Only a hidden post can be restored.")
        _set_status(post, PostStatus.VISIBLE)
        log_action(
            actor=user,
            kind=ModerationActionKind.RESTORE,
            topic=post.topic,
            post=post,
            target_user=post.author,
            reason=reason,
        )
    return post


def reports_dismiss(*, actor: Actor, post: Post, reason: str = "") -> int:
    """The post stays: its open reports are closed as unfounded."""
    with transaction.atomic():
        post = _locked_post(post)
        user = require_moderator(actor, post.topic)
        reason = _reason(reason, required=False)
        count = _resolve_reports(post, user, "dismissed")
        if not count:
            raise Conflict("This post has no open reports.")
        log_action(
            actor=user,
            kind=ModerationActionKind.DISMISS,
            topic=post.topic,
            post=post,
            target_user=post.author,
            reason=reason,
            details={"reports_resolved": count},
        )
    return count


_TOPIC_FLAGS = {
    ModerationActionKind.LOCK: ("is_locked", True),
    ModerationActionKind.UNLOCK: ("is_locked", False),
    ModerationActionKind.PIN: ("is_pinned", True),
    ModerationActionKind.UNPIN: ("is_pinned", False),
}


_STATE_WORDS = {"lock": "locked", "unlock": "open", "pin": "pinned", "unpin": "not pinned"}


def topic_moderate(*, actor: Actor, topic: Topic, action: str, reason: str = "") -> Topic:
    """Lock, unlock, pin or unpin a topic."""
    with transaction.atomic():
        topic = Topic.objects.select_for_update().select_related("category").get(pk=topic.pk)
        user = require_moderator(actor, topic)
        reason = _reason(reason, required=False)
        if action not in _TOPIC_FLAGS:
            raise ValidationFailed("The action is lock, unlock, pin or unpin.", field="action")
        field, value = _TOPIC_FLAGS[ModerationActionKind(action)]
        if getattr(topic, field) == value:
            raise Conflict(f"Nothing to do: the topic is already {_STATE_WORDS[action]}.")
        setattr(topic, field, value)
        topic.save(update_fields=[field])
        log_action(actor=user, kind=action, topic=topic, reason=reason)
    return topic


def topic_move(*, actor: Actor, topic: Topic, category: Category, reason: str = "") -> Topic:
    """To another category; the moderator must moderate both."""
    with transaction.atomic():
        topic = Topic.objects.select_for_update().select_related("category").get(pk=topic.pk)
        user = require_moderator(actor, topic)
        reason = _reason(reason, required=False)
        if not categories_visible_to(user).filter(pk=category.pk).exists():
            raise ValidationFailed("There is no such category.", field="category")
        if category.pk == topic.category_id:
            raise Conflict("The topic is already in this category.", field="category")
        origin = topic.category
        topic.category = category
        require_moderator(user, topic)
        topic.save(update_fields=["category"])
        log_action(
            actor=user,
            kind=ModerationActionKind.MOVE,
            topic=topic,
            reason=reason,
            details={"from": origin.name, "to": category.name},
        )
    return topic


def _require_global_moderator(actor: Actor) -> User:
    user = signed_in(actor)
    if not moderates_everything(user):
        raise NotAllowed("Only an admin or a moderator of every category may ban.")
    return user


def user_ban(
    *, actor: Actor, user: User, reason: str, ends_at: dt.datetime | None = None
) -> PostingBan:
    """No more posting (reading stays) until the end date, or until lifted."""
    with transaction.atomic():
        moderator = _require_global_moderator(actor)
        reason = _reason(reason, required=True)
        if user.pk == moderator.pk:
            raise ValidationFailed("You cannot ban yourself.")
        if user.is_staff_member:
            raise ValidationFailed(
                "Staff cannot be banned from the forums; change their role instead."
            )
        if ends_at is not None and ends_at <= timezone.now():
            raise ValidationFailed("The end of the ban must be in the future.", field="ends_at")
        if active_ban(user=user) is not None:
            raise Conflict("This person is already banned from posting.")
        ban = PostingBan.objects.create(
            user=user, reason=reason, banned_by=moderator, ends_at=ends_at
        )
        log_action(
            actor=moderator,
            kind=ModerationActionKind.BAN,
            target_user=user,
            reason=reason,
            details={"ends_at": ends_at.isoformat() if ends_at else None},
        )
    return ban


def ban_lift(*, actor: Actor, ban: PostingBan, reason: str = "") -> PostingBan:
    with transaction.atomic():
        moderator = _require_global_moderator(actor)
        reason = _reason(reason, required=False)
        ban = PostingBan.objects.select_for_update().get(pk=ban.pk)
        if ban.lifted_at is not None:
            raise Conflict("This ban was already lifted.")
        ban.lifted_at = timezone.now()
        ban.lifted_by = moderator
        ban.save(update_fields=["lifted_at", "lifted_by"])
        log_action(
            actor=moderator, kind=ModerationActionKind.UNBAN, target_user=ban.user, reason=reason
        )
    return ban
