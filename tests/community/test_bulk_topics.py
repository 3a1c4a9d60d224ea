"""The bulk writer behind the demo's forums and the bench book: its threads read on the
pages and in search exactly like threads written through the services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from crm.demo.community_book import write_topics
from relationships.community import selectors
from relationships.community.models import Post, Topic


@pytest.fixture
def bulk(community, manager_a):
    written = write_topics(
        categories=[community.customers],
        authors=[community.user_a, community.user_b],
        staff=[manager_a],
        topics=40,
        mean_replies=4.0,
        long_topic_replies=25,
        batch=15,  # several batches, so the counters cross batch boundaries
        log=lambda _: None,
    )
    return written


def test_threads_have_the_counters_the_services_keep(bulk, community):
    # given 40 bulk-written topics
    topics = Topic.objects.exclude(pk__in=[t.pk for t in community.topics.values()])
    assert topics.count() == bulk.topics == 40
    assert Post.objects.filter(topic__in=topics).count() == bulk.posts
    # then each topic's reply count, last number and last date match its posts
    for topic in topics.prefetch_related("posts"):
        posts = sorted(topic.posts.all(), key=lambda p: p.number)
        assert [p.number for p in posts] == list(range(1, len(posts) + 1))
        assert topic.reply_count == len(posts) - 1
        assert topic.last_post_number == len(posts)
        assert topic.last_posted_at == posts[-1].created_at
        # and a customer's post names the customer it belongs to, staff posts none
        for post in posts:
            if post.by_staff:
                assert post.customer_id is None
            else:
                assert post.customer.user_id == post.author_id
    # and the first topic is the long thread the bench reads
    assert topics.order_by("pk").first().reply_count == 25


def test_a_customer_reads_a_bulk_thread_on_the_topic_page(bulk, community, as_user):
    topic = Topic.objects.order_by("pk").filter(reply_count=25).get()
    page = as_user(community.user_b).get(reverse("community:topic", args=[topic.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<article class="post') == 26
    assert 'id="post-26"' in html


@pytest.mark.postgres(reason="full-text search vectors are PostgreSQL's")
def test_bulk_posts_are_found_by_search(bulk, community):
    assert connection.vendor == "postgresql"
    found = selectors.post_search(actor=community.user_a, query="account manager")
    assert found
    bulk_posts = Post.objects.exclude(topic__in=community.topics.values())
    assert bulk_posts.count() == bulk.posts
    assert not bulk_posts.filter(search_vector__isnull=True).exists()


def test_a_long_thread_reads_fifty_posts_a_page_and_links_find_their_page(
    community, manager_a, as_user
):
    # given a thread of 1 + 59 posts
    write_topics(
        categories=[community.customers],
        authors=[community.user_a, community.user_b],
        staff=[manager_a],
        topics=1,
        mean_replies=1.0,
        long_topic_replies=59,
        log=lambda _: None,
    )
    topic = Topic.objects.get(reply_count=59)
    client = as_user(community.user_b)
    url = reverse("community:topic", args=[topic.pk])

    # then the first page shows posts 1-50 with a link to page 2, the second 51-60
    first = client.get(url).content.decode()
    assert first.count('<article class="post') == 50
    assert 'id="post-50"' in first
    assert 'id="post-51"' not in first
    assert 'href="?page=2" rel="next"' in first
    second = client.get(url + "?page=2").content.decode()
    assert second.count('<article class="post') == 10
    assert 'id="post-60"' in second
    # and a page past the end shows the last one
    assert 'id="post-60"' in client.get(url + "?page=9").content.decode()
    # and links to a post carry its page
    assert selectors.post_path(topic.pk, 55) == f"{url}?page=2#post-55"
    assert selectors.post_path(topic.pk, 50) == f"{url}#post-50"
