"""End to end in chromium: a customer asks a question in the forum (held, as a new
member's first post), an admin approves it and answers as staff, another customer answers
too, and the asker accepts the customer's answer, which earns its author loyalty points;
staff then find the question and the accepted answer on the two customers' timelines."""

import pytest
from playwright.sync_api import expect

from loyalty.models import Membership
from relationships.community.models import Category, CategoryAccess, Topic
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    EarningRuleFactory,
    MembershipFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def log_out(page):
    page.click("form.logout button")


def test_customer_question_answered_by_staff_and_a_peer(page, live_server, admin_user, settings):
    settings.CRM_COMMUNITY_HOLD_FIRST_POSTS = 1
    asker = UserFactory(username="carla", role="customer", first_name="Carla")
    helper = UserFactory(username="hugo", role="customer", first_name="Hugo")
    asker_customer = CustomerFactory(name="Carla Co", user=asker)
    helper_customer = CustomerFactory(name="Hugo Hardware", user=helper)
    program = ProgramFactory(name="Club")
    MembershipFactory(program=program, customer=helper_customer)
    EarningRuleFactory(program=program, kind="event", event_code="forum_answer_accepted", points=40)
    Category.objects.create(name="Help", slug="help", access=CategoryAccess.CUSTOMERS)

    # The customer asks: a first post waits for a moderator.
    log_in(page, live_server, "carla")
    page.click("nav.mainnav >> text=Community")
    page.click("a.category-name:has-text('Help')")
    page.click("a:has-text('New topic')")
    page.fill("#id_title", "Scanner shows error E42")
    page.select_option("#id_kind", "question")
    page.fill("#id_body", "It started **yesterday**. <script>alert(1)</script>")
    page.click("button:has-text('Post the topic')")
    expect(page.locator(".messages")).to_contain_text("approval")
    expect(page.locator(".post-body").first).to_contain_text("<script>alert(1)</script>")
    topic = Topic.objects.get(title="Scanner shows error E42")
    log_out(page)

    # The admin approves it from the queue and answers as staff.
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/community/moderation/")
    page.click("button:has-text('Approve')")
    expect(page.locator(".messages")).to_contain_text("Post approved.")
    page.goto(f"{live_server.url}/community/t/{topic.pk}/")
    page.fill("#id_body", "Please send us the scanner's log.")
    page.click("button:has-text('Reply')")
    expect(page.locator("#post-2 .badge.staff")).to_have_text("Staff")
    log_out(page)

    # Another customer answers (not held this time: the setting is off).
    settings.CRM_COMMUNITY_HOLD_FIRST_POSTS = 0
    log_in(page, live_server, "hugo")
    page.goto(f"{live_server.url}/community/t/{topic.pk}/")
    page.fill("#id_body", "E42 is the lamp: clean the glass.")
    page.click("button:has-text('Reply')")
    expect(page.locator("#post-3")).to_contain_text("clean the glass")
    log_out(page)

    # The asker accepts the peer's answer.
    log_in(page, live_server, "carla")
    page.goto(f"{live_server.url}/community/t/{topic.pk}/")
    page.click("#post-3 button:has-text('Accept as answer')")
    expect(page.locator("#post-3 .badge.solved")).to_have_text("Accepted answer")
    expect(page.locator(".solved-note")).to_be_visible()
    membership = Membership.objects.get(customer=helper_customer)
    assert membership.balance + membership.pending_points == 40
    log_out(page)

    # On the staff side, both relationships show it: the question on the asker's
    # timeline, the accepted answer on the helper's.
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/customers/{asker_customer.pk}/")
    question = page.locator("#timeline-list li", has_text="Scanner shows error E42").first
    expect(question).to_contain_text("Question")
    page.goto(f"{live_server.url}/customers/{helper_customer.pk}/")
    answer = page.locator("#timeline-list li", has_text="Scanner shows error E42").first
    expect(answer).to_contain_text("Accepted answer")
    answer.locator("a", has_text="Scanner shows error E42").click()
    expect(page.locator("#post-3 .badge.solved")).to_have_text("Accepted answer")
