"""Who sees which category (public, customers only, a segment, a tier), in the selectors,
the pages and the API alike; held and hidden posts are seen by their author and
moderators only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from relationships.community import selectors, services
from relationships.community.models import PostStatus

# role -> the categories (by fixture name) that role sees
EXPECTED = {
    "anonymous": {"public"},
    "customer_a": {"public", "customers", "segment"},
    "customer_b": {"public", "customers", "tier"},
    "manager": {"public", "customers", "segment", "tier"},
    "admin": {"public", "customers", "segment", "tier"},
}
KINDS = ("public", "customers", "segment", "tier")


def _actor(role, community, manager_a, admin_user):
    return {
        "anonymous": None,
        "customer_a": community.user_a,
        "customer_b": community.user_b,
        "manager": manager_a,
        "admin": admin_user,
    }[role]


@pytest.mark.parametrize("role", EXPECTED)
def test_categories_visible_per_role_in_the_selector(role, community, manager_a, admin_user):
    actor = _actor(role, community, manager_a, admin_user) or AnonymousUser()
    visible = set(selectors.categories_visible_to(actor).values_list("slug", flat=True))
    expected = {getattr(community, kind).slug for kind in EXPECTED[role]}
    assert visible == expected


@pytest.mark.parametrize("role", EXPECTED)
def test_category_and_topic_pages_per_role(role, community, manager_a, admin_user, as_user):
    client = as_user(_actor(role, community, manager_a, admin_user))
    for kind in KINDS:
        category = getattr(community, kind)
        topic = community.topics[kind]
        want = 200 if kind in EXPECTED[role] else 404
        assert client.get(f"/community/c/{category.slug}/").status_code == want, kind
        page = client.get(f"/community/t/{topic.pk}/")
        assert page.status_code == want, kind
        if want == 200:
            assert topic.title in page.content.decode()
    index = client.get("/community/").content.decode()
    for kind in KINDS:
        assert (community.topics[kind].title in index) == (kind in EXPECTED[role]), kind


@pytest.mark.parametrize("role", EXPECTED)
def test_categories_topics_and_posts_in_the_api_per_role(
    role, community, manager_a, admin_user, as_user
):
    client = as_user(_actor(role, community, manager_a, admin_user))
    slugs = {c["slug"] for c in client.get("/api/v1/community/categories/").json()["results"]}
    assert slugs == {getattr(community, k).slug for k in EXPECTED[role]}
    titles = {t["title"] for t in client.get("/api/v1/community/topics/").json()["results"]}
    assert titles == {community.topics[k].title for k in EXPECTED[role]}
    for kind in KINDS:
        topic = community.topics[kind]
        want = 200 if kind in EXPECTED[role] else 404
        assert client.get(f"/api/v1/community/topics/{topic.pk}/").status_code == want
        posts = client.get(f"/api/v1/community/posts/?topic={topic.pk}").json()["results"]
        assert len(posts) == (1 if want == 200 else 0)


def test_customer_user_without_record_sees_public_only_and_cannot_post(community, as_user):
    from tests.factories import UserFactory

    lonely = UserFactory(username="lonely", role="customer")
    assert set(selectors.categories_visible_to(lonely).values_list("slug", flat=True)) == {
        "announcements"
    }
    response = as_user(lonely).post(
        "/api/v1/community/topics/",
        {"category": community.public.pk, "title": "Hi", "body": "Me"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "not linked to a customer" in response.json()["detail"]


def test_held_and_hidden_posts_are_seen_by_author_and_moderators_only(
    community, manager_a, admin_user, as_user, settings
):
    settings.CRM_COMMUNITY_HOLD_FIRST_POSTS = 5
    topic = community.topics["customers"]
    held = services.post_create(actor=community.user_b, topic=topic, body="Held reply text")
    assert held.status == PostStatus.HELD
    shown = services.post_create(actor=manager_a, topic=topic, body="Staff reply text")
    services.post_hide(actor=admin_user, post=shown, reason="Off topic")

    def seen(user):
        return set(
            selectors.posts_visible_to(user or AnonymousUser())
            .filter(topic=topic)
            .values_list("number", flat=True)
        )

    assert seen(community.user_a) == {1}
    assert seen(community.user_b) == {1, held.number}
    assert seen(manager_a) == {1, shown.number}  # the author of the hidden post
    assert seen(admin_user) == {1, held.number, shown.number}
    page = as_user(community.user_a).get(f"/community/t/{topic.pk}/").content.decode()
    assert "Held reply text" not in page
    assert "Staff reply text" not in page
    assert as_user(community.user_a).get(f"/api/v1/community/posts/{held.pk}/").status_code == 404
    assert as_user(community.user_b).get(f"/api/v1/community/posts/{held.pk}/").status_code == 200
    assert (
        "Held reply text" in as_user(admin_user).get(f"/community/t/{topic.pk}/").content.decode()
    )


def test_a_hidden_opening_post_hides_its_topic(community, admin_user, as_user):
    topic = community.topics["customers"]
    opening = topic.posts.get(number=1)
    services.post_hide(actor=admin_user, post=opening, reason="Spam")
    assert as_user(community.user_b).get(f"/community/t/{topic.pk}/").status_code == 404
    assert as_user(community.user_a).get(f"/community/t/{topic.pk}/").status_code == 200
    assert as_user(admin_user).get(f"/community/t/{topic.pk}/").status_code == 200
