"""The forum pages: posting through forms with clear errors, safe rendering of user text,
staff shown as staff, the accept button, and the API's refusals as 400s."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from relationships.community import services
from relationships.community.models import Post, Topic

XSS_BODY = (
    "<script>alert('x')</script>\n\n"
    "[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=)\n\n"
    '<img src=x onerror="alert(2)"> <a href="https://example.com" onclick="alert(3)">a</a>\n\n'
    "[fine](https://example.com/help)"
)


class _Elements(HTMLParser):
    """Every element of a page with its attributes, as a browser would build them."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def test_a_post_with_script_and_javascript_links_renders_inert(community, as_user):
    topic = community.topics["customers"]
    services.post_create(actor=community.user_b, topic=topic, body=XSS_BODY)
    services.topic_create(
        actor=community.user_b,
        category=community.customers,
        title="<script>alert('t')</script>",
        body="x",
    )
    for path in (
        f"/community/t/{topic.pk}/",
        "/community/c/help/",
        "/community/",
        "/community/search/?q=alert",
    ):
        html = as_user(community.user_a).get(path).content.decode()
        parser = _Elements()
        parser.feed(html)
        scripts = [a.get("src", "") for tag, a in parser.elements if tag == "script"]
        assert all(src.startswith("/static/") for src in scripts), (path, scripts)  # ours only
        for tag, attrs in parser.elements:
            assert not [k for k in attrs if k.startswith("on")], (path, tag, attrs)
            assert not attrs.get("href", "").lower().startswith(("javascript:", "data:")), (
                path,
                attrs,
            )
        assert "alert(" not in "".join(
            a.get("href", "") + a.get("src", "") for _, a in parser.elements
        )
    page = as_user(community.user_a).get(f"/community/t/{topic.pk}/").content.decode()
    assert "&lt;script&gt;" in page  # the text is shown, as text
    assert '<a href="https://example.com/help" rel="nofollow ugc">fine</a>' in page


def test_staff_answers_are_shown_as_staff(community, manager_a, as_user):
    topic = community.topics["customers"]
    services.post_create(actor=manager_a, topic=topic, body="From the team")
    html = as_user(community.user_b).get(f"/community/t/{topic.pk}/").content.decode()
    staff_post = html.split('id="post-2"', 1)[1].split("</article>", 1)[0]
    assert "badge staff" in staff_post
    first_post = html.split('id="post-1"', 1)[1].split("</article>", 1)[0]
    assert "badge staff" not in first_post


def test_a_customer_opens_a_topic_and_replies_through_the_forms(community, as_user):
    client = as_user(community.user_b)
    response = client.post(
        "/community/c/help/new/",
        {"title": "Printer jams", "kind": "question", "body": "Paper jams daily"},
    )
    topic = Topic.objects.get(title="Printer jams")
    assert response.status_code == 302
    assert topic.author == community.user_b
    response = client.post(
        f"/community/t/{topic.pk}/reply/", {"body": "Fixed by cleaning the rollers"}
    )
    assert response.status_code == 302
    assert Post.objects.filter(topic=topic).count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "kind": "question", "body": "x"}, "This field is required"),
        ({"title": "T", "kind": "poll", "body": "x"}, "Select a valid choice"),
        # Refused by the NUL middleware before the form (crm/middleware.py), naming the field.
        ({"title": "T", "kind": "question", "body": "a\x00b"}, "null character"),
        ({"title": "T" * 201, "kind": "question", "body": "x"}, "at most 200 characters"),
        ({"title": "T", "kind": "question", "body": "x" * 20001}, "at most 20000 characters"),
    ],
)
def test_bad_topic_forms_are_form_errors(community, as_user, data, message):
    response = as_user(community.user_b).post("/community/c/help/new/", data)
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()


def test_replying_to_a_locked_topic_is_a_form_error(community, admin_user, as_user):
    topic = community.topics["customers"]
    services.topic_moderate(actor=admin_user, topic=topic, action="lock")
    response = as_user(community.user_b).post(f"/community/t/{topic.pk}/reply/", {"body": "Me too"})
    assert response.status_code == 400
    assert "locked" in response.content.decode()


def test_liking_twice_through_the_page_says_so(community, as_user):
    post = community.topics["customers"].posts.get(number=1)
    client = as_user(community.user_b)
    client.post(f"/community/p/{post.pk}/like/")
    response = client.post(f"/community/p/{post.pk}/like/", follow=True)
    assert "You already like this post." in response.content.decode()
    post.refresh_from_db()
    assert post.like_count == 1


def test_the_asker_accepts_an_answer_on_the_page(community, manager_a, as_user):
    topic = community.topics["customers"]
    answer = services.post_create(actor=manager_a, topic=topic, body="Reset it")
    client = as_user(community.user_a)
    assert "Accept as answer" in client.get(f"/community/t/{topic.pk}/").content.decode()
    assert (
        "Accept as answer"
        not in as_user(community.user_b).get(f"/community/t/{topic.pk}/").content.decode()
    )
    client.post(f"/community/p/{answer.pk}/accept/")
    topic.refresh_from_db()
    assert topic.accepted_post == answer
    assert "Accepted answer" in client.get(f"/community/t/{topic.pk}/").content.decode()


def test_edit_and_history_pages(community, as_user):
    opening = community.topics["customers"].posts.get(number=1)
    client = as_user(community.user_a)
    response = client.post(
        f"/community/p/{opening.pk}/edit/",
        {"title": "Router keeps restarting", "body": "New words", "reason": "typo"},
    )
    assert response.status_code == 302
    history = as_user(community.user_b).get(f"/community/p/{opening.pk}/history/").content.decode()
    assert "Any idea?" in history
    assert "New words" in history
    stranger = as_user(community.user_b)
    assert stranger.get(f"/community/p/{opening.pk}/edit/").status_code == 403
    assert stranger.post(f"/community/p/{opening.pk}/edit/", {"body": "Hijack"}).status_code == 403
    bad = client.post(f"/community/p/{opening.pk}/edit/", {"title": "T", "body": "a\x00b"})
    assert bad.status_code == 400


def test_anonymous_reads_public_pages_but_is_sent_to_log_in_to_write(community, as_user):
    client = as_user(None)
    assert client.get("/community/").status_code == 200
    assert client.get(f"/community/t/{community.topics['public'].pk}/").status_code == 200
    response = client.post(f"/community/t/{community.topics['public'].pk}/reply/", {"body": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_notifications_page_and_mark_read(community, manager_a, as_user):
    services.post_create(actor=manager_a, topic=community.topics["customers"], body="Answer")
    client = as_user(community.user_a)
    page = client.get("/community/notifications/").content.decode()
    assert "replied in" in page
    client.post("/community/notifications/")
    assert community.user_a.community_notifications.filter(read_at__isnull=True).count() == 0
