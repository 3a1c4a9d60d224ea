"""The ideas board: customers propose, vote once and comment as themselves; staff set the
status with a reply (shipping fires the idea_shipped loyalty event once) and hide; the
same visibility for pages and API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.errors import Conflict, NotAllowed, ValidationFailed
from loyalty.models import LedgerEntry
from relationships.community import selectors, services
from relationships.community.models import Idea, IdeaStatus, IdeaStatusChange, IdeaVote
from tests.community.cocreation import event_rule, idea_by, portal_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(manager_a, manager_b):
    anna, anna_c = portal_customer("anna", manager=manager_a)
    ben, ben_c = portal_customer("ben", manager=manager_b)
    return {"anna": anna, "anna_c": anna_c, "ben": ben, "ben_c": ben_c}


# --- services -------------------------------------------------------------------------


def test_customer_proposes_and_markdown_is_stored_rendered(people):
    idea = idea_by(people["anna"])
    assert idea.customer == people["anna_c"]
    assert idea.author == people["anna"]
    assert "<strong>dark</strong>" in idea.body_html
    assert idea.status == IdeaStatus.NEW


def test_staff_and_unlinked_logins_cannot_propose(manager_a, customer_user):
    with pytest.raises(NotAllowed):
        idea_by(manager_a)
    with pytest.raises(NotAllowed):
        idea_by(customer_user)  # a customer login with no customer record


@pytest.mark.parametrize(
    ("title", "body"),
    [("", "text"), ("   ", "text"), ("ok", ""), ("bad\x00title", "text"), ("x" * 201, "text")],
)
def test_bad_idea_input_is_refused(people, title, body):
    with pytest.raises(ValidationFailed):
        services.idea_propose(user=people["anna"], title=title, body=body)


def test_vote_once_and_unvote(people):
    idea = idea_by(people["anna"])
    services.idea_vote(user=people["ben"], idea=idea)
    with pytest.raises(Conflict, match="already voted"):
        services.idea_vote(user=people["ben"], idea=idea)
    idea.refresh_from_db()
    assert idea.vote_count == 1
    assert IdeaVote.objects.count() == 1
    services.idea_unvote(user=people["ben"], idea=idea)
    idea.refresh_from_db()
    assert idea.vote_count == 0
    with pytest.raises(Conflict, match="not voted"):
        services.idea_unvote(user=people["ben"], idea=idea)


def test_no_vote_for_own_idea_or_a_decided_one(people, manager_a):
    idea = idea_by(people["anna"])
    with pytest.raises(ValidationFailed, match="own idea"):
        services.idea_vote(user=people["anna"], idea=idea)
    with pytest.raises(NotAllowed):
        services.idea_vote(user=manager_a, idea=idea)
    services.idea_set_status(actor=manager_a, idea=idea, status="declined", reply="Not for us.")
    with pytest.raises(Conflict, match="voting has closed"):
        services.idea_vote(user=people["ben"], idea=idea)


def test_status_needs_staff_a_known_status_and_a_reply(people, manager_a):
    idea = idea_by(people["anna"])
    with pytest.raises(NotAllowed):
        services.idea_set_status(actor=people["anna"], idea=idea, status="planned", reply="Yes")
    with pytest.raises(ValidationFailed):
        services.idea_set_status(actor=manager_a, idea=idea, status="new", reply="Back")
    with pytest.raises(ValidationFailed):
        services.idea_set_status(actor=manager_a, idea=idea, status="planned", reply="  ")
    change = services.idea_set_status(
        actor=manager_a, idea=idea, status="planned", reply="Coming in *spring*."
    )
    assert change.from_status == "new"
    assert "<em>spring</em>" in change.reply_html
    with pytest.raises(Conflict, match="already planned"):
        services.idea_set_status(actor=manager_a, idea=idea, status="planned", reply="Again")
    idea.refresh_from_db()
    assert idea.status == "planned"
    assert IdeaStatusChange.objects.filter(idea=idea).count() == 1


def test_shipping_fires_idea_shipped_once_and_points_show(people, admin_user):
    membership = event_rule(people["anna_c"], "idea_shipped", points=80)
    idea = idea_by(people["anna"])
    services.idea_set_status(actor=admin_user, idea=idea, status="shipped", reply="Done!")
    services.idea_set_status(actor=admin_user, idea=idea, status="planned", reply="Oops, later")
    services.idea_set_status(actor=admin_user, idea=idea, status="shipped", reply="Done now.")
    entries = LedgerEntry.objects.filter(membership=membership, event_code="idea_shipped")
    assert entries.count() == 1
    membership.refresh_from_db()
    assert membership.balance + membership.pending_points == 80


def test_shipping_without_a_rule_earns_nothing(people, admin_user):
    idea = idea_by(people["anna"])
    services.idea_set_status(actor=admin_user, idea=idea, status="shipped", reply="Done")
    assert not LedgerEntry.objects.exists()


def test_comments_mark_staff_and_count(people, manager_b):
    idea = idea_by(people["anna"])
    mine = services.idea_comment(user=people["ben"], idea=idea, body="+1, *yes*")
    staff = services.idea_comment(user=manager_b, idea=idea, body="We are on it.")
    assert (mine.is_staff, mine.customer) == (False, people["ben_c"])
    assert (staff.is_staff, staff.customer) == (True, None)
    idea.refresh_from_db()
    assert idea.comment_count == 2
    services.idea_comment_moderate(actor=manager_b, comment=mine, hidden=True, reason="Spam")
    idea.refresh_from_db()
    assert idea.comment_count == 1


def test_hidden_idea_is_invisible_to_other_customers_only(people, manager_a, manager_b):
    idea = idea_by(people["anna"])
    with pytest.raises(ValidationFailed):
        services.idea_moderate(actor=manager_a, idea=idea, hidden=True, reason="")
    services.idea_moderate(actor=manager_a, idea=idea, hidden=True, reason="Off topic")
    assert not selectors.ideas_visible_to(people["ben"]).filter(pk=idea.pk).exists()
    assert selectors.ideas_visible_to(people["anna"]).filter(pk=idea.pk).exists()
    assert selectors.ideas_visible_to(manager_b).filter(pk=idea.pk).exists()
    with pytest.raises(ValidationFailed):
        services.idea_vote(user=people["ben"], idea=idea)


def test_board_sorts(people, manager_a):
    older = idea_by(people["anna"], title="Older")
    newer = idea_by(people["anna"], title="Newer")
    services.idea_vote(user=people["ben"], idea=older)
    services.idea_set_status(actor=manager_a, idea=newer, status="planned", reply="Yes")
    by_votes = list(selectors.idea_board(actor=people["ben"], sort="votes"))
    assert by_votes[0] == older
    assert by_votes[0].my_vote is True
    assert selectors.idea_board(actor=people["ben"], sort="new").first() == newer
    assert selectors.idea_board(actor=people["ben"], sort="status").first() == newer
    assert list(selectors.idea_board(actor=people["ben"], status="planned")) == [newer]


# --- pages ------------------------------------------------------------------------------


def test_customer_proposes_through_the_page(client, people):
    client.force_login(people["anna"])
    response = client.post(reverse("community:idea-create"), {"title": "", "body": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    response = client.post(
        reverse("community:idea-create"), {"title": "Exports", "body": "CSV please"}
    )
    idea = Idea.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("community:idea-detail", args=[idea.pk])


def test_nul_byte_in_a_form_is_refused_in_words(client, people):
    client.force_login(people["anna"])
    response = client.post(reverse("community:idea-create"), {"title": "a\x00b", "body": "x"})
    # Refused in words by the form field's validator (200 with the form), or first by the
    # app's NUL middleware (400) where it is installed; never a 500, nothing stored.
    assert response.status_code in (200, 400)
    assert "null character" in response.content.decode().lower()
    assert not Idea.objects.exists()


def test_staff_cannot_use_the_propose_page(client, manager_a):
    client.force_login(manager_a)
    assert client.get(reverse("community:idea-create")).status_code == 403


def test_vote_page_twice_shows_a_message(client, people):
    idea = idea_by(people["anna"])
    client.force_login(people["ben"])
    url = reverse("community:idea-vote", args=[idea.pk])
    client.post(url, {"action": "vote"})
    response = client.post(url, {"action": "vote"}, follow=True)
    assert "You have already voted for this idea." in response.content.decode()
    idea.refresh_from_db()
    assert idea.vote_count == 1


def test_customer_cannot_set_status_on_the_page(client, people):
    idea = idea_by(people["anna"])
    client.force_login(people["anna"])
    response = client.post(
        reverse("community:idea-status", args=[idea.pk]), {"status": "shipped", "reply": "x"}
    )
    assert response.status_code == 403
    idea.refresh_from_db()
    assert idea.status == "new"


def test_staff_sets_status_with_reply_on_the_page(client, people, manager_b):
    idea = idea_by(people["anna"])
    client.force_login(manager_b)
    url = reverse("community:idea-status", args=[idea.pk])
    response = client.post(url, {"status": "planned", "reply": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    response = client.post(url, {"status": "planned", "reply": "In the Q3 release."}, follow=True)
    page = response.content.decode()
    assert "In the Q3 release." in page
    assert "Staff" in page
    # Manager B does not see Anna (manager A's customer) in the CRM: no link to her record.
    assert reverse("customer-detail", args=[people["anna_c"].pk]) not in page


def test_hidden_idea_page_is_404_for_other_customers(client, people, manager_a):
    idea = idea_by(people["anna"])
    services.idea_moderate(actor=manager_a, idea=idea, hidden=True, reason="Duplicate")
    url = reverse("community:idea-detail", args=[idea.pk])
    client.force_login(people["ben"])
    assert client.get(url).status_code == 404
    client.force_login(people["anna"])
    response = client.get(url)
    assert response.status_code == 200
    assert "Duplicate" in response.content.decode()


def test_idea_text_is_inert(client, people):
    idea = services.idea_propose(
        user=people["anna"],
        title="<script>alert(1)</script>",
        body="<img src=x onerror=alert(1)> [x](javascript:alert(1))",
    )
    services.idea_comment(user=people["ben"], idea=idea, body="<script>evil()</script>")
    client.force_login(people["ben"])
    page = client.get(reverse("community:idea-detail", args=[idea.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>evil()</script>" not in page
    assert "<img" not in page
    assert 'href="javascript' not in page


def test_board_and_triage_pages(client, people, manager_a):
    idea_by(people["anna"], title="Offline mode")
    client.force_login(people["ben"])
    for sort in ("votes", "new", "status", "bogus"):
        response = client.get(reverse("community:idea-list"), {"sort": sort, "status": "x"})
        assert response.status_code == 200
        assert "Offline mode" in response.content.decode()
    assert client.get(reverse("community:idea-triage")).status_code == 403
    client.force_login(manager_a)
    response = client.get(reverse("community:idea-triage"))
    assert response.status_code == 200
    assert "Offline mode" in response.content.decode()


# --- API --------------------------------------------------------------------------------


def test_api_customer_proposes_as_themselves(client, people):
    client.force_login(people["anna"])
    response = client.post(
        "/api/v1/ideas/",
        {"title": "API idea", "body": "text", "customer": people["ben_c"].pk},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Idea.objects.get().customer == people["anna_c"]  # the field is ignored
    assert "customer" not in response.json()  # the CRM record is staff's business


def test_api_votes_once_and_role_rules(client, people, manager_a):
    idea = idea_by(people["anna"])
    url = f"/api/v1/ideas/{idea.pk}/vote/"
    client.force_login(people["ben"])
    assert client.post(url).status_code == 201
    second = client.post(url)
    assert second.status_code == 409
    assert "already voted" in second.json()["detail"]
    assert client.delete(url).json()["vote_count"] == 0
    status_url = f"/api/v1/ideas/{idea.pk}/status/"
    body = {"status": "shipped", "reply": "Done"}
    assert client.post(status_url, body, content_type="application/json").status_code == 403
    client.force_login(manager_a)
    assert client.post(url).status_code == 403  # staff do not vote
    bad = client.post(status_url, {"status": "new", "reply": "x"}, content_type="application/json")
    assert bad.status_code == 400
    ok = client.post(status_url, body, content_type="application/json")
    assert ok.status_code == 200
    assert ok.json()["status_changes"][0]["reply"] == "Done"
    assert ok.json()["customer"] == people["anna_c"].pk


def test_api_bad_input_is_400(client, people):
    client.force_login(people["anna"])
    for payload in ({}, {"title": "a\x00", "body": "b"}, {"title": "x" * 201, "body": "b"}):
        assert (
            client.post("/api/v1/ideas/", payload, content_type="application/json").status_code
            == 400
        )
    assert client.post("/api/v1/ideas/abc/vote/").status_code == 404


def test_api_hidden_content_is_invisible_to_others(client, people, manager_a):
    idea = idea_by(people["anna"])
    comment = services.idea_comment(user=people["anna"], idea=idea, body="mine")
    client.force_login(manager_a)
    response = client.post(
        f"/api/v1/idea-comments/{comment.pk}/moderate/",
        {"hidden": True, "reason": "Rude"},
        content_type="application/json",
    )
    assert response.status_code == 200
    response = client.post(
        f"/api/v1/ideas/{idea.pk}/moderate/",
        {"hidden": True, "reason": "Spam"},
        content_type="application/json",
    )
    assert response.status_code == 200
    client.force_login(people["ben"])
    assert client.get(f"/api/v1/ideas/{idea.pk}/").status_code == 404
    assert client.get("/api/v1/ideas/").json()["results"] == []
    assert client.get(f"/api/v1/idea-comments/{comment.pk}/").status_code == 404
    assert (
        client.post(
            "/api/v1/idea-comments/",
            {"idea": idea.pk, "body": "hello"},
            content_type="application/json",
        ).status_code
        == 400
    )
    client.force_login(people["anna"])
    assert client.get(f"/api/v1/ideas/{idea.pk}/").json()["hidden_reason"] == "Spam"
    assert client.get(f"/api/v1/idea-comments/{comment.pk}/").status_code == 200


def test_api_customer_cannot_moderate(client, people):
    idea = idea_by(people["anna"])
    client.force_login(people["ben"])
    response = client.post(
        f"/api/v1/ideas/{idea.pk}/moderate/",
        {"hidden": True, "reason": "mine now"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_api_anonymous_is_refused(client):
    assert client.get("/api/v1/ideas/").status_code == 401
