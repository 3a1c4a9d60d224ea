"""The forums' rules: posting, edits with history, quoting, likes once, accepted answers
that earn loyalty points, subscriptions with notifications and e-mail, unread tracking,
the flood guard and held first posts, and clear refusals for bad input."""

from __future__ import annotations

import pytest
from django.core import mail

from customers.errors import Conflict, NotAllowed, ValidationFailed
from loyalty.models import LedgerEntry, Membership
from relationships.community import selectors, services
from relationships.community.models import (
    BODY_MAX,
    Notification,
    PostRevision,
    PostStatus,
    Subscription,
)
from tests.factories import CustomerFactory, EarningRuleFactory, UserFactory


def test_a_reply_is_numbered_rendered_and_counted(community):
    topic = community.topics["customers"]
    post = services.post_create(actor=community.user_b, topic=topic, body="Try *this*")
    assert post.number == 2
    assert post.customer == community.customer_b
    assert "<em>this</em>" in post.html
    topic.refresh_from_db()
    assert topic.reply_count == 1
    assert topic.last_post_number == 2


def test_staff_replies_are_marked_as_staff_and_belong_to_no_customer(community, manager_a):
    post = services.post_create(
        actor=manager_a, topic=community.topics["customers"], body="We fixed it."
    )
    assert post.by_staff is True
    assert post.customer is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Please write"),
        ("   ", "Please write"),
        ("bad\x00byte", "NUL"),
        ("x" * (BODY_MAX + 1), "too long"),
    ],
)
def test_bad_bodies_are_refused_with_a_message(community, body, message):
    with pytest.raises(ValidationFailed, match=message):
        services.post_create(actor=community.user_b, topic=community.topics["customers"], body=body)


def test_a_locked_topic_takes_no_replies_but_from_moderators(community, admin_user):
    topic = community.topics["customers"]
    services.topic_moderate(actor=admin_user, topic=topic, action="lock")
    with pytest.raises(Conflict, match="locked"):
        services.post_create(actor=community.user_b, topic=topic, body="Me too")
    assert services.post_create(actor=admin_user, topic=topic, body="Closing note").number == 2


def test_a_customer_cannot_post_where_they_cannot_read(community):
    with pytest.raises(NotAllowed):
        services.topic_create(
            actor=community.user_a, category=community.tier, title="Hi", body="Let me in"
        )


def test_quoting_a_post_of_another_topic_is_refused(community):
    other = community.topics["public"].posts.get(number=1)
    with pytest.raises(ValidationFailed, match="quote"):
        services.post_create(
            actor=community.user_b,
            topic=community.topics["customers"],
            body="Quote",
            quoted_post=other,
        )


def test_quoting_keeps_the_quoted_post(community):
    topic = community.topics["customers"]
    first = topic.posts.get(number=1)
    reply = services.post_create(
        actor=community.user_b, topic=topic, body="> Any idea?\n\nYes", quoted_post=first
    )
    assert reply.quoted_post == first
    assert "<blockquote>" in reply.html


def test_an_edit_keeps_the_previous_version(community):
    topic = community.topics["customers"]
    opening = topic.posts.get(number=1)
    services.post_edit(
        actor=community.user_a,
        post=opening,
        body="Any idea? It is a **Zyxel**.",
        title="Zyxel router keeps restarting",
        reason="model",
    )
    opening.refresh_from_db()
    topic.refresh_from_db()
    assert opening.edit_count == 1
    assert "<strong>Zyxel</strong>" in opening.html
    assert topic.title == "Zyxel router keeps restarting"
    revision = PostRevision.objects.get(post=opening)
    assert revision.source == "Any idea?"
    assert revision.title == "Router keeps restarting"
    assert revision.reason == "model"
    assert revision.edited_by == community.user_a


def test_only_the_author_or_a_moderator_edits_and_a_moderator_edit_is_logged(
    community, manager_a, admin_user
):
    opening = community.topics["customers"].posts.get(number=1)
    with pytest.raises(NotAllowed):
        services.post_edit(actor=community.user_b, post=opening, body="Hacked")
    with pytest.raises(NotAllowed):
        services.post_edit(actor=manager_a, post=opening, body="Not a moderator")
    services.post_edit(actor=admin_user, post=opening, body="Tidied", reason="format")
    from relationships.community.models import ModerationAction

    assert ModerationAction.objects.filter(kind="edit", post=opening, actor=admin_user).exists()


def test_likes_count_once_per_person(community, manager_a):
    post = community.topics["customers"].posts.get(number=1)
    services.post_like(actor=community.user_b, post=post)
    services.post_like(actor=manager_a, post=post)
    with pytest.raises(Conflict, match="already"):
        services.post_like(actor=community.user_b, post=post)
    post.refresh_from_db()
    assert post.like_count == 2
    with pytest.raises(ValidationFailed, match="own"):
        services.post_like(actor=community.user_a, post=post)
    services.post_unlike(actor=community.user_b, post=post)
    post.refresh_from_db()
    assert post.like_count == 1


def _answer_rule(program_name="Club", points=50):
    from loyalty.models import Program

    program = Program.objects.get(name=program_name)
    return EarningRuleFactory(
        program=program,
        kind="event",
        event_code="forum_answer_accepted",
        points=points,
        is_active=True,
    )


def test_an_accepted_answer_by_a_customer_earns_the_loyalty_event_once(community):
    _answer_rule(points=50)
    topic = community.topics["customers"]
    answer = services.post_create(actor=community.user_b, topic=topic, body="Update the firmware.")
    membership = Membership.objects.get(customer=community.customer_b)
    before = membership.balance + membership.pending_points

    services.answer_accept(actor=community.user_a, post=answer)
    membership.refresh_from_db()
    assert membership.balance + membership.pending_points == before + 50
    entry = LedgerEntry.objects.get(
        membership=membership, idempotency_key__contains=f"community-post:{answer.pk}"
    )
    assert entry.points == 50
    topic.refresh_from_db()
    assert topic.accepted_post == answer
    assert Notification.objects.filter(recipient=community.user_b, kind="accepted").exists()

    # Taken back and given again: still one credit for this post.
    services.answer_unaccept(actor=community.user_a, topic=topic)
    services.answer_accept(actor=community.user_a, post=answer)
    membership.refresh_from_db()
    assert membership.balance + membership.pending_points == before + 50


def test_accepting_without_an_active_rule_earns_nothing_but_works(community):
    topic = community.topics["customers"]
    answer = services.post_create(actor=community.user_b, topic=topic, body="Reboot.")
    services.answer_accept(actor=community.user_a, post=answer)
    topic.refresh_from_db()
    assert topic.accepted_post == answer
    assert not LedgerEntry.objects.filter(membership__customer=community.customer_b).exists()


def test_only_the_asker_or_staff_accept_and_only_on_questions(community, manager_a):
    topic = community.topics["customers"]
    answer = services.post_create(actor=manager_a, topic=topic, body="Staff answer")
    other = services.post_create(actor=community.user_b, topic=topic, body="Customer answer")
    with pytest.raises(NotAllowed):
        services.answer_accept(actor=community.user_b, post=answer)
    services.answer_accept(actor=manager_a, post=other)  # staff may
    mine = services.post_create(actor=community.user_a, topic=topic, body="Solved it myself")
    with pytest.raises(ValidationFailed, match="own"):
        services.answer_accept(actor=community.user_a, post=mine)
    with pytest.raises(ValidationFailed, match="question itself"):
        services.answer_accept(actor=community.user_a, post=topic.posts.get(number=1))
    discussion = community.topics["segment"]  # A's own discussion
    discussion_reply = services.post_create(actor=manager_a, topic=discussion, body="Hi")
    with pytest.raises(ValidationFailed, match="question"):
        services.answer_accept(actor=community.user_a, post=discussion_reply)


def test_followers_hear_of_replies_in_the_app_and_by_email(
    community, manager_a, django_capture_on_commit_callbacks
):
    topic = community.topics["customers"]
    community.user_b.email = "ben@example.com"
    community.user_b.save()
    services.topic_subscribe(actor=community.user_b, topic=topic)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(actor=manager_a, topic=topic, body="Here is how.")
    # The author (auto-subscribed) and B are told; the replier is not.
    recipients = set(
        Notification.objects.filter(kind="reply").values_list("recipient__username", flat=True)
    )
    assert recipients == {"ann", "ben"}
    addresses = sorted(m.to[0] for m in mail.outbox)
    assert addresses == ["ann@example.com", "ben@example.com"]
    assert (
        "Router keeps restarting" in mail.outbox[0].body
        or "Router keeps restarting" in mail.outbox[0].subject
    )


def test_no_mail_for_a_reply_that_rolls_back_or_is_held(
    community, settings, django_capture_on_commit_callbacks
):
    settings.CRM_COMMUNITY_HOLD_FIRST_POSTS = 5
    topic = community.topics["customers"]
    with django_capture_on_commit_callbacks(execute=True):
        post = services.post_create(actor=community.user_b, topic=topic, body="Held")
    assert post.status == PostStatus.HELD
    assert mail.outbox == []
    assert not Notification.objects.filter(kind="reply").exists()


def test_unfollowing_stops_notifications(community, manager_a):
    topic = community.topics["customers"]
    services.topic_unsubscribe(actor=community.user_a, topic=topic)
    services.post_create(actor=manager_a, topic=topic, body="Hello")
    assert not Notification.objects.filter(recipient=community.user_a).exists()
    assert not Subscription.objects.filter(user=community.user_a, topic=topic).exists()


def test_unread_counts_replies_past_the_read_marker(community, manager_a):
    topic = community.topics["customers"]
    reader = community.user_b

    def row():
        return next(t for t in selectors.topic_list(actor=reader) if t.pk == topic.pk)

    assert row().last_read == -1  # never opened: new
    services.topic_mark_read(actor=reader, topic=topic, up_to=1)
    assert row().unread == 0
    services.post_create(actor=manager_a, topic=topic, body="One")
    services.post_create(actor=community.user_a, topic=topic, body="Two")
    assert row().unread == 2
    services.topic_mark_read(actor=reader, topic=topic, up_to=3)
    assert row().unread == 0
    services.topic_mark_read(actor=reader, topic=topic, up_to=1)  # never moves back
    assert row().last_read == 3


def test_opening_a_topic_page_marks_it_read(community, manager_a, as_user):
    topic = community.topics["customers"]
    services.post_create(actor=manager_a, topic=topic, body="One")
    as_user(community.user_b).get(f"/community/t/{topic.pk}/")
    row = next(t for t in selectors.topic_list(actor=community.user_b) if t.pk == topic.pk)
    assert row.unread == 0
    assert row.last_read == 2


def test_posting_too_fast_is_refused(community, settings, manager_a):
    settings.CRM_COMMUNITY_POSTS_PER_MINUTE = 3
    topic = community.topics["customers"]
    # B opened a topic a moment ago (the fixture): with two replies, three in a minute.
    services.post_create(actor=community.user_b, topic=topic, body="one")
    services.post_create(actor=community.user_b, topic=topic, body="two")
    with pytest.raises(ValidationFailed, match="too fast"):
        services.post_create(actor=community.user_b, topic=topic, body="three")
    # Staff are not limited.
    for n in range(3):
        services.post_create(actor=manager_a, topic=topic, body=f"staff {n}")


def test_a_new_members_first_post_waits_for_approval(
    community, settings, admin_user, django_capture_on_commit_callbacks
):
    settings.CRM_COMMUNITY_HOLD_FIRST_POSTS = 1
    newcomer = UserFactory(username="nina", role="customer")
    CustomerFactory(name="Newco", user=newcomer)
    topic = community.topics["customers"]
    first = services.post_create(actor=newcomer, topic=topic, body="First ever")
    assert first.status == PostStatus.HELD
    topic.refresh_from_db()
    assert topic.reply_count == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.post_approve(actor=admin_user, post=first)
    topic.refresh_from_db()
    assert topic.reply_count == 1
    assert Notification.objects.filter(recipient=newcomer, kind="approved").exists()
    assert Notification.objects.filter(recipient=community.user_a, kind="reply").exists()
    # Once a post is approved, the next one goes straight out.
    assert (
        services.post_create(actor=newcomer, topic=topic, body="Second").status
        == PostStatus.VISIBLE
    )
