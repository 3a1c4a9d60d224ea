"""The CRM side of co-creation: per-customer community activity (set-based), the staff
timeline, the account manager's "active in the community" page, and the ladder's
co-creation rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships.community import selectors, services
from relationships.community.models import Idea, IdeaVote
from relationships.models import LadderSuggestion
from relationships.selectors import customer_timeline, timeline_row
from relationships.services import ladder_suggestions_refresh
from tests.community.cocreation import idea_by, portal_customer
from tests.factories import CustomerFactory, PurchaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(manager_a, manager_b):
    anna, anna_c = portal_customer("anna", manager=manager_a, name="Anna Co")
    ben, ben_c = portal_customer("ben", manager=manager_b, name="Ben Co")
    cleo, _cleo_c = portal_customer("cleo", manager=manager_a, name="Cleo Co")
    PurchaseFactory(customer=anna_c, product="Widget")
    return {"anna": anna, "anna_c": anna_c, "ben": ben, "ben_c": ben_c, "cleo": cleo}


def test_community_activity_counts_per_customer(people, manager_a, django_assert_num_queries):
    idea = idea_by(people["anna"])
    hidden = idea_by(people["anna"], title="Hidden one")
    services.idea_moderate(actor=manager_a, idea=hidden, hidden=True, reason="Spam")
    services.idea_vote(user=people["ben"], idea=idea)
    services.idea_vote(user=people["cleo"], idea=idea)
    services.idea_comment(user=people["ben"], idea=idea, body="Yes")
    services.idea_comment(user=manager_a, idea=idea, body="Staff do not count")
    pending = services.review_write(user=people["anna"], product="Widget", rating=5, body="ok")
    # An old vote falls outside the 90 days.
    old = idea_by(people["cleo"], title="Old")
    IdeaVote.objects.filter(idea=idea, user=people["cleo"]).update(
        created_at=timezone.now() - dt.timedelta(days=91)
    )
    with django_assert_num_queries(6):  # one grouped statement per source
        activity = selectors.community_activity()
    anna_c, ben_c = people["anna_c"].pk, people["ben_c"].pk
    none = {"posts": 0, "answers": 0, "ideas": 0, "votes": 0, "comments": 0, "reviews": 0}
    assert activity[anna_c] == {**none, "ideas": 1, "total": 1}
    assert activity[ben_c] == {**none, "votes": 1, "comments": 1, "total": 2}
    assert activity[old.customer_id]["votes"] == 0
    services.review_moderate(actor=manager_a, review=pending, approve=True)
    assert selectors.community_activity([anna_c])[anna_c]["reviews"] == 1
    assert set(selectors.community_activity([ben_c])) == {ben_c}


def test_active_page_shows_the_managers_own_customers(client, people, manager_a, admin_user):
    idea = idea_by(people["anna"])
    services.idea_vote(user=people["ben"], idea=idea)  # Ben belongs to manager B
    CustomerFactory(account_manager=manager_a, name="Quiet Co")
    client.force_login(manager_a)
    page = client.get(reverse("community:community-active")).content.decode()
    assert "Anna Co" in page
    assert "Ben Co" not in page
    assert "Quiet Co" not in page
    client.force_login(admin_user)
    page = client.get(reverse("community:community-active")).content.decode()
    assert "Anna Co" in page
    assert "Ben Co" in page
    client.force_login(people["anna"])
    assert client.get(reverse("community:community-active")).status_code == 403


def test_ideas_and_reviews_on_the_staff_timeline(client, people, manager_a):
    idea = idea_by(people["anna"], title="Bulk export")
    review = services.review_write(user=people["anna"], product="Widget", rating=4, body="ok")
    Idea.objects.filter(pk=idea.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    entries, cursor = customer_timeline(customer=people["anna_c"], limit=2)
    assert [e.kind for e in entries] == ["review", "idea"]
    rows = [timeline_row(e) for e in entries]
    assert rows[0]["subject"] == "Review of Widget"
    assert rows[0]["state"] == "Pending"
    assert rows[1]["state"] == "New"
    # The cursor goes past community entries to the purchase.
    more, _ = customer_timeline(customer=people["anna_c"], limit=5, before=cursor)
    assert [e.kind for e in more] == ["purchase"]
    client.force_login(manager_a)
    page = client.get(reverse("customer-detail", args=[people["anna_c"].pk])).content.decode()
    assert "Bulk export" in page
    assert "Review of Widget" in page
    assert f'id="review-{review.pk}"' in page


def test_shipped_idea_or_approved_review_suggests_supporter(people, admin_user):
    anna_c = people["anna_c"]
    anna_c.stage = "client"
    anna_c.save()
    idea = idea_by(people["anna"])
    today = timezone.localdate()
    assert ladder_suggestions_refresh(run_date=today) == 0
    services.idea_set_status(actor=admin_user, idea=idea, status="shipped", reply="Shipped")
    review = services.review_write(user=people["anna"], product="Widget", rating=5, body="ok")
    services.review_moderate(actor=admin_user, review=review, approve=True)
    assert ladder_suggestions_refresh(run_date=today) == 1
    suggestion = LadderSuggestion.objects.get(customer=anna_c)
    assert (suggestion.from_stage, suggestion.to_stage) == ("client", "supporter")
    assert suggestion.rule == "co_creation"
    assert suggestion.reason == (
        "2 helpful contributions in the community (shipped ideas, approved reviews, accepted answers)"
    )
