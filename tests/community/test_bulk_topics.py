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
