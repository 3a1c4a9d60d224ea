"""Moderation: the queue (held and reported posts), every action logged, category
moderators limited to their categories, bans with reasons."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from relationships.community import selectors, services
from relationships.community.models import (
    ModerationAction,
    Moderator,
    Notification,
    PostStatus,
    Report,
)


def _reply(community, user=None, body="A reply"):
    return services.post_create(
        actor=user or community.user_b, topic=community.topics["customers"], body=body
    )


def test_reports_and_held_posts_make_one_queue(community, admin_user, settings):
    reported = _reply(community, body="Buy cheap pills")
    services.post_report(actor=community.user_a, post=reported, reason="Spam")
    settings.CRM_COMMUNITY_HOLD_FIRST_POSTS = 100
    held = _reply(community, body="Held one")
    queue = selectors.moderation_queue(actor=admin_user)
    assert [p.pk for p in queue] == [reported.pk, held.pk]
    assert queue[0].report_count == 1
    assert [r.reason for r in queue[0].open_reports] == ["Spam"]


def test_a_post_is_reported_once_per_person_and_not_by_its_author(community):
    post = _reply(community)
    services.post_report(actor=community.user_a, post=post, reason="Rude")
    with pytest.raises(Conflict, match="already reported"):
        services.post_report(actor=community.user_a, post=post, reason="Rude again")
    with pytest.raises(ValidationFailed, match="own"):
        services.post_report(actor=community.user_b, post=post, reason="Me")
    with pytest.raises(ValidationFailed, match="reason"):
        services.post_report(actor=community.user_a, post=post, reason="  ")


def test_every_moderation_action_is_logged_with_its_reason(community, admin_user):
    topic = community.topics["customers"]
    post = _reply(community)
    services.post_report(actor=community.user_a, post=post, reason="Rude")
    services.post_hide(actor=admin_user, post=post, reason="Rude language")
    services.post_restore(actor=admin_user, post=post, reason="On second thought")
    services.post_report(actor=community.user_a, post=post, reason="Still rude")
    services.reports_dismiss(actor=admin_user, post=post, reason="Fine")
    for action in ("lock", "unlock", "pin", "unpin"):
        services.topic_moderate(actor=admin_user, topic=topic, action=action, reason=action)
    services.topic_move(
        actor=admin_user, topic=topic, category=community.public, reason="Of general interest"
    )
    ban = services.user_ban(actor=admin_user, user=community.user_b, reason="Trolling")
    services.ban_lift(actor=admin_user, ban=ban, reason="Apologised")
    kinds = list(ModerationAction.objects.order_by("id").values_list("kind", "reason"))
    assert kinds == [
        ("hide", "Rude language"),
        ("restore", "On second thought"),
        ("dismiss", "Fine"),
        ("lock", "lock"),
        ("unlock", "unlock"),
        ("pin", "pin"),
        ("unpin", "unpin"),
        ("move", "Of general interest"),
        ("ban", "Trolling"),
        ("unban", "Apologised"),
    ]
    assert ModerationAction.objects.get(kind="move").details == {
        "from": "Help",
        "to": "Announcements",
    }
    assert not Report.objects.filter(resolved_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=community.user_b, kind="moderated").exists()
    assert selectors.moderation_queue(actor=admin_user) == []


def test_hiding_the_accepted_answer_unmarks_it(community, admin_user):
    topic = community.topics["customers"]
    answer = _reply(community)
    services.answer_accept(actor=community.user_a, post=answer)
    services.post_hide(actor=admin_user, post=answer, reason="Wrong and dangerous")
    topic.refresh_from_db()
    assert topic.accepted_post is None
    assert topic.reply_count == 0


def test_a_manager_moderates_only_where_named(community, manager_a, manager_b):
    post = _reply(community)
    with pytest.raises(NotAllowed):
        services.post_hide(actor=manager_a, post=post, reason="No")
    Moderator.objects.create(user=manager_a, category=community.customers)
    services.post_hide(actor=manager_a, post=post, reason="Yes")
    other = services.post_create(
        actor=community.user_b, topic=community.topics["public"], body="Elsewhere"
    )
    with pytest.raises(NotAllowed):
        services.post_hide(actor=manager_a, post=other, reason="Not my category")
    with pytest.raises(NotAllowed):
        services.user_ban(
            actor=manager_a, user=community.user_b, reason="Only global moderators ban"
        )
    Moderator.objects.create(user=manager_b, category=None)
    services.user_ban(actor=manager_b, user=community.user_b, reason="Global moderator")


def test_customers_cannot_moderate(community):
    post = _reply(community)
    with pytest.raises(NotAllowed):
        services.post_hide(actor=community.user_a, post=post, reason="I do not like it")
    with pytest.raises(NotAllowed):
        services.topic_moderate(
            actor=community.user_a, topic=community.topics["customers"], action="lock"
        )


def test_a_banned_member_cannot_post_until_the_ban_ends(community, admin_user):
    ban = services.user_ban(
        actor=admin_user,
        user=community.user_b,
        reason="Cooling off",
        ends_at=timezone.now() + dt.timedelta(days=1),
    )
    with pytest.raises(NotAllowed, match="Cooling off"):
        _reply(community)
    with pytest.raises(NotAllowed, match="banned"):
        services.post_edit(
            actor=community.user_b, post=community.topics["tier"].posts.get(number=1), body="Edit"
        )
    with pytest.raises(Conflict):
        services.user_ban(actor=admin_user, user=community.user_b, reason="Again")
    services.ban_lift(actor=admin_user, ban=ban)
    assert _reply(community).status == PostStatus.VISIBLE


def test_an_expired_ban_no_longer_counts(community, admin_user):
    services.user_ban(
        actor=admin_user,
        user=community.user_b,
        reason="Short",
        ends_at=timezone.now() + dt.timedelta(days=1),
    )
    from relationships.community.models import PostingBan

    PostingBan.objects.update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    assert _reply(community).status == PostStatus.VISIBLE


def test_staff_cannot_be_banned_and_bans_need_a_reason(community, admin_user, manager_a):
    with pytest.raises(ValidationFailed, match="Staff"):
        services.user_ban(actor=admin_user, user=manager_a, reason="No")
    with pytest.raises(ValidationFailed, match="reason"):
        services.user_ban(actor=admin_user, user=community.user_b, reason="")


def test_moderation_pages_for_moderators_only(community, admin_user, manager_a, as_user):
    post = _reply(community, body="Reported words")
    services.post_report(actor=community.user_a, post=post, reason="Spam")
    page = as_user(admin_user).get("/community/moderation/")
    assert page.status_code == 200
    assert "Reported words" in page.content.decode()
    assert as_user(manager_a).get("/community/moderation/").status_code == 403
    assert as_user(community.user_a).get("/community/moderation/").status_code == 403
    response = as_user(admin_user).post(
        f"/community/p/{post.pk}/hide/", {"reason": "Spam", "next": "/community/moderation/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/community/moderation/"
    assert (
        "Reported words" not in as_user(admin_user).get("/community/moderation/").content.decode()
    )
    log = as_user(admin_user).get("/community/moderation/log/").content.decode()
    assert "Hid a post" in log


def test_the_ban_page_bans_with_a_reason_and_refuses_nonsense(community, admin_user, as_user):
    client = as_user(admin_user)
    assert (
        client.post(
            "/community/moderation/bans/", {"username": "nobody", "reason": "x"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/community/moderation/bans/", {"username": "ben", "reason": "", "days": "0"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/community/moderation/bans/", {"username": "ben", "reason": "Spam", "days": "3"}
        ).status_code
        == 302
    )
    assert selectors.active_ban(user=community.user_b) is not None
