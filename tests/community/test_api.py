"""The community API: customers write as themselves, moderators moderate, bad input is a
400 (never a 500), hidden content is invisible to others."""

from __future__ import annotations

import pytest

from relationships.community import services
from relationships.community.models import Post, PostStatus


def _json(client, method, url, data=None):
    return getattr(client, method)(url, data or {}, content_type="application/json")


def test_a_customer_posts_as_themselves(community, as_user):
    client = as_user(community.user_b)
    topic = community.topics["customers"]
    response = _json(
        client,
        "post",
        "/api/v1/community/posts/",
        {"topic": topic.pk, "body": "Mine", "author": community.user_a.pk},
    )
    assert response.status_code == 201
    post = Post.objects.get(pk=response.json()["id"])
    assert post.author == community.user_b
    assert post.customer == community.customer_b
    assert response.json()["author"]["username"] == "ben"


@pytest.mark.parametrize(
    "data",
    [
        {"topic": 0, "body": "x"},
        {"topic": 2**70, "body": "x"},
        {"topic": "abc", "body": "x"},
        {"body": "x"},
        {"topic": 999999, "body": "x"},
        {"topic": None, "body": "a\x00b"},
        {"topic": "TOPIC", "body": ""},
        {"topic": "TOPIC", "body": "x" * 20001},
        {"topic": "TOPIC", "body": "x", "quoted_post": 999999},
    ],
)
def test_bad_posts_are_400s(community, as_user, data):
    data = {k: (community.topics["customers"].pk if v == "TOPIC" else v) for k, v in data.items()}
    response = _json(as_user(community.user_b), "post", "/api/v1/community/posts/", data)
    assert response.status_code == 400, response.content


def test_bad_topics_are_400s_and_out_of_reach_categories_too(community, as_user):
    client = as_user(community.user_a)
    assert (
        _json(
            client,
            "post",
            "/api/v1/community/topics/",
            {"category": community.tier.pk, "title": "T", "body": "B"},
        ).status_code
        == 400
    )
    assert (
        _json(
            client,
            "post",
            "/api/v1/community/topics/",
            {"category": community.customers.pk, "title": "T\x00", "body": "B"},
        ).status_code
        == 400
    )
    assert (
        _json(
            client,
            "post",
            "/api/v1/community/topics/",
            {"category": community.customers.pk, "title": "T", "body": "B", "kind": "poll"},
        ).status_code
        == 400
    )
    ok = _json(
        client,
        "post",
        "/api/v1/community/topics/",
        {"category": community.customers.pk, "title": "T", "body": "B", "kind": "question"},
    )
    assert ok.status_code == 201


def test_anonymous_reads_public_but_cannot_write(community, as_user):
    client = as_user(None)
    assert client.get("/api/v1/community/topics/").status_code == 200
    response = _json(
        client,
        "post",
        "/api/v1/community/posts/",
        {"topic": community.topics["public"].pk, "body": "x"},
    )
    assert response.status_code == 401


def test_like_once_then_conflict_and_unlike(community, as_user):
    post = community.topics["customers"].posts.get(number=1)
    client = as_user(community.user_b)
    assert client.post(f"/api/v1/community/posts/{post.pk}/like/").json()["like_count"] == 1
    assert client.post(f"/api/v1/community/posts/{post.pk}/like/").status_code == 409
    assert client.delete(f"/api/v1/community/posts/{post.pk}/like/").json()["like_count"] == 0
    assert client.delete(f"/api/v1/community/posts/{post.pk}/like/").status_code == 409


def test_posting_in_a_locked_topic_is_a_409(community, admin_user, as_user):
    topic = community.topics["customers"]
    services.topic_moderate(actor=admin_user, topic=topic, action="lock")
    response = _json(
        as_user(community.user_b),
        "post",
        "/api/v1/community/posts/",
        {"topic": topic.pk, "body": "x"},
    )
    assert response.status_code == 409
    assert "locked" in response.json()["detail"]


def test_customers_cannot_moderate_through_the_api(community, as_user):
    post = services.post_create(
        actor=community.user_b, topic=community.topics["customers"], body="x"
    )
    client = as_user(community.user_a)
    assert (
        _json(
            client, "post", f"/api/v1/community/posts/{post.pk}/hide/", {"reason": "no"}
        ).status_code
        == 403
    )
    assert (
        _json(
            client,
            "post",
            f"/api/v1/community/topics/{post.topic_id}/moderate/",
            {"action": "lock"},
        ).status_code
        == 403
    )
    assert client.get("/api/v1/community/moderation-queue/").status_code == 403
    assert client.get("/api/v1/community/bans/").status_code == 403
    assert (
        _json(
            client, "post", "/api/v1/community/bans/", {"user": community.user_b.pk, "reason": "x"}
        ).status_code
        == 403
    )


def test_moderators_moderate_through_the_api(community, admin_user, as_user):
    post = services.post_create(
        actor=community.user_b, topic=community.topics["customers"], body="Spammy"
    )
    services.post_report(actor=community.user_a, post=post, reason="Spam")
    client = as_user(admin_user)
    queue = client.get("/api/v1/community/moderation-queue/").json()
    assert [p["id"] for p in queue] == [post.pk]
    assert queue[0]["open_reports"][0]["reason"] == "Spam"
    assert (
        _json(
            client, "post", f"/api/v1/community/posts/{post.pk}/hide/", {"reason": "Spam"}
        ).json()["status"]
        == PostStatus.HIDDEN
    )
    # Hidden: gone for others, there for its author.
    assert as_user(community.user_a).get(f"/api/v1/community/posts/{post.pk}/").status_code == 404
    assert as_user(community.user_b).get(f"/api/v1/community/posts/{post.pk}/").status_code == 200
    assert (
        _json(
            client, "post", f"/api/v1/community/posts/{post.pk}/hide/", {"reason": "again"}
        ).status_code
        == 409
    )
    assert (
        _json(
            client,
            "post",
            f"/api/v1/community/topics/{post.topic_id}/moderate/",
            {"action": "explode"},
        ).status_code
        == 400
    )
    ban = _json(
        client, "post", "/api/v1/community/bans/", {"user": community.user_b.pk, "reason": "Spam"}
    )
    assert ban.status_code == 201
    blocked = _json(
        as_user(community.user_b),
        "post",
        "/api/v1/community/posts/",
        {"topic": post.topic_id, "body": "x"},
    )
    assert blocked.status_code == 403


def test_edit_history_and_accept_through_the_api(community, manager_a, as_user):
    topic = community.topics["customers"]
    answer = services.post_create(actor=manager_a, topic=topic, body="Reset")
    client = as_user(community.user_a)
    opening = topic.posts.get(number=1)
    edited = _json(
        client,
        "patch",
        f"/api/v1/community/posts/{opening.pk}/",
        {"body": "Edited", "reason": "more"},
    )
    assert edited.status_code == 200
    assert edited.json()["edit_count"] == 1
    assert (
        client.get(f"/api/v1/community/posts/{opening.pk}/revisions/").json()[0]["source"]
        == "Any idea?"
    )
    assert (
        _json(
            as_user(community.user_b),
            "patch",
            f"/api/v1/community/posts/{opening.pk}/",
            {"body": "x"},
        ).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/community/posts/{answer.pk}/accept/").json()["accepted_post"]
        == answer.pk
    )
    assert (
        client.delete(f"/api/v1/community/topics/{topic.pk}/accepted-answer/").json()[
            "accepted_post"
        ]
        is None
    )


def test_subscriptions_read_markers_and_notifications_through_the_api(
    community, manager_a, as_user
):
    topic = community.topics["customers"]
    client = as_user(community.user_b)
    assert client.post(f"/api/v1/community/topics/{topic.pk}/subscription/").status_code == 204
    services.post_create(actor=manager_a, topic=topic, body="News")
    notes = client.get("/api/v1/community/notifications/").json()["results"]
    assert [n["kind"] for n in notes] == ["reply"]
    assert client.post("/api/v1/community/notifications/mark-read/").status_code == 204
    assert (
        _json(
            client, "post", f"/api/v1/community/topics/{topic.pk}/read/", {"up_to": 2}
        ).status_code
        == 204
    )
    assert (
        _json(
            client, "post", f"/api/v1/community/topics/{topic.pk}/read/", {"up_to": -1}
        ).status_code
        == 400
    )
    assert client.delete(f"/api/v1/community/topics/{topic.pk}/subscription/").status_code == 204
