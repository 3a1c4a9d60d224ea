"""Races on PostgreSQL: double clicks and two tabs never count a vote or a like twice, and
the counters shown on the pages stay equal to the rows behind them."""

import pytest

from customers.errors import Conflict
from relationships.community import services
from relationships.community.models import Category, CategoryAccess, Idea, IdeaVote, Post, PostLike
from tests.concurrency.together import run_together
from tests.factories import CustomerFactory, UserFactory

pytestmark = [
    pytest.mark.postgres(
        reason="unique keys under concurrent transactions need PostgreSQL; SQLite serialises"
    ),
    pytest.mark.django_db(transaction=True),
]


def _member(name):
    user = UserFactory(username=name, role="customer")
    CustomerFactory(name=f"{name} Ltd", user=user)
    return user


def test_one_vote_per_person_under_concurrent_clicks():
    author, voter = _member("author"), _member("voter")
    idea = services.idea_propose(user=author, title="Dark mode", body="Please.")

    results = run_together([lambda: services.idea_vote(user=voter, idea=idea)] * 8)

    assert sum(isinstance(r, IdeaVote) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, IdeaVote))
    assert IdeaVote.objects.filter(idea=idea).count() == 1
    assert Idea.objects.get(pk=idea.pk).vote_count == 1


def test_votes_by_many_people_at_once_are_all_counted():
    author = _member("author")
    voters = [_member(f"voter{n}") for n in range(8)]
    idea = services.idea_propose(user=author, title="Reorder", body="A button.")

    def vote(user):
        return lambda: services.idea_vote(user=user, idea=idea)

    results = run_together([vote(v) for v in voters])

    assert all(isinstance(r, IdeaVote) for r in results)
    assert Idea.objects.get(pk=idea.pk).vote_count == 8 == IdeaVote.objects.count()


def test_one_like_per_person_under_concurrent_clicks(settings):
    settings.CRM_COMMUNITY_HOLD_FIRST_POSTS = 0
    author, reader = _member("author"), _member("reader")
    category = Category.objects.create(name="Help", slug="help", access=CategoryAccess.CUSTOMERS)
    topic = services.topic_create(actor=author, category=category, title="Hello", body="Hi all")
    post = topic.posts.get(number=1)

    results = run_together([lambda: services.post_like(actor=reader, post=post)] * 8)

    assert sum(isinstance(r, Post) for r in results) == 1
    assert PostLike.objects.filter(post=post).count() == 1
    assert Post.objects.get(pk=post.pk).like_count == 1
