"""Search: PostgreSQL full-text search (ranked, stemmed, GIN-indexed), a plain
case-insensitive match on SQLite; both scoped to what the reader may see."""

from __future__ import annotations

import pytest
from django.db import connection

from relationships.community import selectors, services


def _titles(posts):
    return [p.topic.title for p in posts]


def test_search_finds_words_in_titles_and_bodies_within_reach(community, manager_a):
    services.post_create(
        actor=manager_a, topic=community.topics["customers"], body="Update the firmware first."
    )
    assert _titles(selectors.post_search(actor=community.user_b, query="firmware")) == [
        "Router keeps restarting"
    ]
    assert "Router keeps restarting" in _titles(
        selectors.post_search(actor=community.user_b, query="router")
    )
    # SSO lives in the Enterprise category: B cannot reach it, A can.
    assert selectors.post_search(actor=community.user_b, query="SSO") == []
    assert _titles(selectors.post_search(actor=community.user_a, query="SSO")) == ["Enterprise SSO"]


def test_search_skips_hidden_posts(community, admin_user):
    post = services.post_create(
        actor=community.user_b, topic=community.topics["customers"], body="Zanzibar"
    )
    services.post_hide(actor=admin_user, post=post, reason="Off topic")
    assert selectors.post_search(actor=admin_user, query="zanzibar") == []


def test_search_ignores_empty_and_nul_queries(community):
    assert selectors.post_search(actor=community.user_a, query="") == []
    assert selectors.post_search(actor=community.user_a, query="\x00") == []


@pytest.mark.postgres(reason="full-text search with stemming and the GIN index")
def test_postgres_search_is_full_text_with_stemming_ranked_by_title(community, manager_a):
    services.post_create(
        actor=manager_a, topic=community.topics["public"], body="Our routers restart at night."
    )
    found = selectors.post_search(actor=manager_a, query="restarted router")
    # Stemming: "restarted" matches "restarting"/"restart", "router" matches "routers";
    # the title match ranks first.
    assert _titles(found)[0] == "Router keeps restarting"
    assert "Welcome all" in _titles(found)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'community_post_search'")
        assert "gin" in cursor.fetchone()[0].lower()


@pytest.mark.postgres(reason="an edit refreshes the search vector")
def test_an_edit_refreshes_the_search_vector(community):
    opening = community.topics["customers"].posts.get(number=1)
    services.post_edit(actor=community.user_a, post=opening, body="It is a Quokkaphone.")
    assert _titles(selectors.post_search(actor=community.user_b, query="quokkaphone")) == [
        "Router keeps restarting"
    ]


def test_the_search_page_shows_results_and_refuses_overlong_queries(community, as_user):
    client = as_user(community.user_b)
    page = client.get("/community/search/", {"q": "router"})
    assert page.status_code == 200
    assert "Router keeps restarting" in page.content.decode()
    assert client.get("/community/search/", {"q": "x" * 500}).status_code == 400
