"""Writes of the forums: topics, replies, edits, likes, accepted answers, subscriptions and
read markers. One transaction each; a refusal is an ApplicationError with a message."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import Customer, User
from loyalty.services import points_earn_for_event

from ..markdown import render_markdown
from ..models import (
    BODY_MAX,
    TITLE_MAX,
    Category,
    ModerationActionKind,
    Notification,
    NotificationKind,
    Post,
    PostLike,
    PostRevision,
    PostStatus,
    Subscription,
    Topic,
    TopicKind,
    TopicReadMarker,
)
from ..selectors import (
    Actor,
    active_ban,
    categories_visible_to,
    community_member,
    is_moderator,
    post_editable_by,
    posts_visible_to,
    topics_visible_to,
)
from ._common import (
    clean_text,
    log_action,
    notify,
    refresh_topic_counters,
    signed_in,
    update_search_vector,
)

ANSWER_ACCEPTED_EVENT = "forum_answer_accepted"


def _posts_per_minute() -> int:
    return int(getattr(settings, "CRM_COMMUNITY_POSTS_PER_MINUTE", 5))


def _held_first_posts() -> int:
    return int(getattr(settings, "CRM_COMMUNITY_HOLD_FIRST_POSTS", 1))


def _writer(actor: Actor, category: Category) -> tuple[User, Customer | None]:
    """Who may write in a category: staff, or a customer user with a customer record who
    sees the category; not while banned; not faster than the rate limit."""
    user = signed_in(actor)
    customer = community_member(user)
    if not user.is_staff_member and customer is None:
        raise NotAllowed("Your login is not linked to a customer record, so you cannot post yet.")
    if not categories_visible_to(user).filter(pk=category.pk).exists():
        raise NotAllowed("You cannot post in this category.")
    ban = active_ban(user=user)
    if ban is not None:
        until = f" until {timezone.localtime(ban.ends_at):%Y-%m-%d %H:%M}" if ban.ends_at else ""
        raise NotAllowed(f"You are banned from posting{until}: {ban.reason}")
    if not user.is_staff_member:
        limit = _posts_per_minute()
        since = timezone.now() - dt.timedelta(minutes=1)
        if limit and Post.objects.filter(author=user, created_at__gte=since).count() >= limit:
            raise ValidationFailed(
                f"You are posting too fast (at most {limit} posts a minute). "
                "Please wait a moment and try again."
            )
    return user, customer


def _status_for_new_post(user: User) -> str:
    """A new member's first posts wait for a moderator (spam rarely survives that)."""
    if user.is_staff_member:
        return PostStatus.VISIBLE
    needed = _held_first_posts()
    if needed and Post.objects.filter(author=user, status=PostStatus.VISIBLE).count() < needed:
        return PostStatus.HELD
    return PostStatus.VISIBLE


def _subscribe(user: User, topic: Topic) -> None:
    Subscription.objects.get_or_create(topic=topic, user=user)


def announce_reply(post: Post) -> None:
    """Tell the topic's followers (except the author) of a new visible reply; followers
    who can no longer see the topic are skipped."""
    topic = post.topic
    followers = list(
        User.objects.filter(community_subscriptions__topic=topic, is_active=True).exclude(
            pk=post.author_id
        )
    )
    readers = [u for u in followers if topics_visible_to(u).filter(pk=topic.pk).exists()]
    by_email = set(
        Subscription.objects.filter(topic=topic, by_email=True).values_list("user_id", flat=True)
    )
    notify(
        recipients=readers,
        kind=NotificationKind.REPLY,
        topic=topic,
        post=post,
        text=f"{post.author} replied in “{topic.title}”",
        email_to=[u for u in readers if u.pk in by_email],
    )


def topic_create(
    *, actor: Actor, category: Category, title: str, body: str, kind: str = TopicKind.DISCUSSION
) -> Topic:
    title = clean_text(title, field="title", max_length=TITLE_MAX, label="title")
    body = clean_text(body, field="body", max_length=BODY_MAX, label="post")
    if kind not in TopicKind.values:
        raise ValidationFailed("A topic is a discussion or a question.", field="kind")
    with transaction.atomic():
        user, customer = _writer(actor, category)
        status = _status_for_new_post(user)
        now = timezone.now()
        topic = Topic.objects.create(
            category=category,
            title=title,
            kind=kind,
            author=user,
            status=status,
            last_post_number=1 if status == PostStatus.VISIBLE else 0,
            last_posted_at=now,
            created_at=now,
        )
        post = Post.objects.create(
            topic=topic,
            number=1,
            author=user,
            customer=customer,
            by_staff=user.is_staff_member,
            source=body,
            html=render_markdown(body),
            status=status,
            created_at=now,
        )
        update_search_vector(post)
        _subscribe(user, topic)
        TopicReadMarker.objects.create(topic=topic, user=user, last_read_number=1)
    return topic


def post_create(*, actor: Actor, topic: Topic, body: str, quoted_post: Post | None = None) -> Post:
    """A reply. Locked topics take replies from moderators only."""
    body = clean_text(body, field="body", max_length=BODY_MAX, label="reply")
    with transaction.atomic():
        # The topic's row lock numbers replies one after another.
        topic = Topic.objects.select_for_update().select_related("category").get(pk=topic.pk)
        user, customer = _writer(actor, topic.category)
        if not topics_visible_to(user).filter(pk=topic.pk).exists():
            raise NotAllowed("You cannot reply to this topic.")
        if topic.status != PostStatus.VISIBLE:
            raise Conflict("This topic is not public yet (or was hidden); replies wait.")
        if topic.is_locked and not is_moderator(user, topic.category):
            raise Conflict("This topic is locked: it takes no new replies.", field="body")
        if quoted_post is not None and (
            quoted_post.topic_id != topic.pk
            or not posts_visible_to(user).filter(pk=quoted_post.pk).exists()
        ):
            raise ValidationFailed("You can only quote a post of this topic.", field="quoted_post")
        number = (Post.objects.filter(topic=topic).aggregate(n=Max("number"))["n"] or 0) + 1
        post = Post.objects.create(
            topic=topic,
            number=number,
            author=user,
            customer=customer,
            by_staff=user.is_staff_member,
            source=body,
            html=render_markdown(body),
            quoted_post=quoted_post,
            status=_status_for_new_post(user),
        )
        update_search_vector(post)
        _subscribe(user, topic)
        if post.status == PostStatus.VISIBLE:
            refresh_topic_counters(topic)
            TopicReadMarker.objects.update_or_create(
                topic=topic,
                user=user,
                defaults={"last_read_number": number, "read_at": timezone.now()},
            )
            announce_reply(post)
    return post


def post_edit(
    *, actor: Actor, post: Post, body: str, title: str | None = None, reason: str = ""
) -> Post:
    """An edit keeps the previous version as a revision anyone who reads the post can open."""
    body = clean_text(body, field="body", max_length=BODY_MAX, label="post")
    reason = clean_text(reason, field="reason", max_length=200, label="reason", required=False)
    if title is not None:
        title = clean_text(title, field="title", max_length=TITLE_MAX, label="title")
    with transaction.atomic():
        user = signed_in(actor)
        post = (
            Post.objects.select_for_update()
            .select_related("topic", "topic__category")
            .get(pk=post.pk)
        )
        if not post_editable_by(user, post):
            raise NotAllowed("You can only edit your own posts (and not in a locked topic).")
        if active_ban(user=user) is not None and not user.is_staff_member:
            raise NotAllowed("You are banned from posting.")
        topic = post.topic
        new_title = title if (title is not None and post.number == 1) else topic.title
        if body == post.source and new_title == topic.title:
            return post
        PostRevision.objects.create(
            post=post,
            number=post.edit_count + 1,
            title=topic.title if post.number == 1 else "",
            source=post.source,
            html=post.html,
            edited_by=user,
            reason=reason,
        )
        post.source = body
        post.html = render_markdown(body)
        post.edit_count = F("edit_count") + 1
        post.edited_at = timezone.now()
        post.save(update_fields=["source", "html", "edit_count", "edited_at"])
        if new_title != topic.title:
            topic.title = new_title
            topic.save(update_fields=["title"])
        post.refresh_from_db()
        update_search_vector(post)
        if post.author_id != user.pk:
            log_action(
                actor=user,
                kind=ModerationActionKind.EDIT,
                topic=topic,
                post=post,
                target_user=post.author,
                reason=reason,
            )
    return post


def post_like(*, actor: Actor, post: Post) -> Post:
    """One like per person and post; a second is refused, not counted."""
    with transaction.atomic():
        user = signed_in(actor)
        if not posts_visible_to(user).filter(pk=post.pk, status=PostStatus.VISIBLE).exists():
            raise NotAllowed("You cannot like this post.")
        if post.author_id == user.pk:
            raise ValidationFailed("You cannot like your own post.")
        try:
            with transaction.atomic():
                PostLike.objects.create(post=post, user=user)
        except IntegrityError as exc:
            raise Conflict("You already like this post.") from exc
        Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    post.refresh_from_db(fields=["like_count"])
    return post


def post_unlike(*, actor: Actor, post: Post) -> Post:
    with transaction.atomic():
        user = signed_in(actor)
        deleted, _ = PostLike.objects.filter(post=post, user=user).delete()
        if not deleted:
            raise Conflict("You do not like this post.")
        Post.objects.filter(pk=post.pk, like_count__gt=0).update(like_count=F("like_count") - 1)
    post.refresh_from_db(fields=["like_count"])
    return post


def _may_accept(user: User, topic: Topic) -> bool:
    return topic.author_id == user.pk or user.is_staff_member


def answer_accept(*, actor: Actor, post: Post) -> Topic:
    """The topic's author (or staff) marks a reply as the answer. An answer by a customer
    earns the loyalty event `forum_answer_accepted`, once per post, in this transaction."""
    with transaction.atomic():
        user = signed_in(actor)
        topic = Topic.objects.select_for_update().select_related("category").get(pk=post.topic_id)
        post = Post.objects.select_related("customer").get(pk=post.pk)
        if not _may_accept(user, topic):
            raise NotAllowed("Only the person who asked (or staff) may accept an answer.")
        if topic.kind != TopicKind.QUESTION:
            raise ValidationFailed("Only a question takes an accepted answer.")
        if post.number == 1:
            raise ValidationFailed("The question itself cannot be its answer.")
        if post.status != PostStatus.VISIBLE:
            raise ValidationFailed("Only a visible reply can be the answer.")
        if post.author_id == user.pk and not user.is_staff_member:
            raise ValidationFailed("You cannot accept your own reply as the answer.")
        if topic.accepted_post_id == post.pk:
            raise Conflict("This reply is already the accepted answer.")
        topic.accepted_post = post
        topic.save(update_fields=["accepted_post"])
        if post.customer is not None and not post.by_staff:
            # No actor: the points are the programme's response to the event, like a
            # purchase's; who accepted is on the topic. Keyed by post, so earned once.
            points_earn_for_event(
                customer=post.customer,
                event_code=ANSWER_ACCEPTED_EVENT,
                idempotency_key=f"community-post:{post.pk}",
                actor=None,
            )
        if post.author_id != user.pk:
            notify(
                recipients=[post.author],
                kind=NotificationKind.ACCEPTED,
                topic=topic,
                post=post,
                text=f"Your reply in “{topic.title}” was accepted as the answer",
                email_to=[post.author],
            )
    return topic


def answer_unaccept(*, actor: Actor, topic: Topic) -> Topic:
    with transaction.atomic():
        user = signed_in(actor)
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        if not _may_accept(user, topic):
            raise NotAllowed("Only the person who asked (or staff) may change the answer.")
        if topic.accepted_post_id is None:
            raise Conflict("This topic has no accepted answer.")
        topic.accepted_post = None
        topic.save(update_fields=["accepted_post"])
    return topic


def topic_subscribe(*, actor: Actor, topic: Topic, by_email: bool = True) -> Subscription:
    user = signed_in(actor)
    with transaction.atomic():
        subscription, _ = Subscription.objects.update_or_create(
            topic=topic, user=user, defaults={"by_email": by_email}
        )
    return subscription


def topic_unsubscribe(*, actor: Actor, topic: Topic) -> None:
    user = signed_in(actor)
    with transaction.atomic():
        Subscription.objects.filter(topic=topic, user=user).delete()


def topic_mark_read(*, actor: Actor, topic: Topic, up_to: int) -> None:
    """The reader has seen the topic up to post `up_to`; a marker never moves back."""
    if not actor.is_authenticated or up_to <= 0:
        return
    with transaction.atomic():
        marker, created = TopicReadMarker.objects.get_or_create(
            topic=topic, user_id=actor.pk, defaults={"last_read_number": up_to}
        )
        if not created and marker.last_read_number < up_to:
            TopicReadMarker.objects.filter(pk=marker.pk, last_read_number__lt=up_to).update(
                last_read_number=up_to, read_at=timezone.now()
            )


def notifications_mark_read(*, actor: Actor, ids: list[int] | None = None) -> int:
    user = signed_in(actor)
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())
