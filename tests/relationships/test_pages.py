import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from relationships.models import Interaction
from tests.factories import InteractionFactory


def log_data(**overrides):
    data = {
        "channel": "phone",
        "kind": "support",
        "subject": "Printer jammed",
        "notes": "Sent a tech.",
        "sentiment": "-1",
        "occurred_at": "",
        "follow_up_on": "",
    }
    data.update(overrides)
    return data


def test_htmx_log_returns_fresh_form_and_entry_for_the_top_of_the_timeline(
    client, manager_a, customer_a
):
    InteractionFactory(customer=customer_a, author=manager_a, subject="Older call")
    client.force_login(manager_a)
    response = client.post(
        reverse("interaction-log", args=[customer_a.pk]), log_data(), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="interaction-form"')
    assert 'hx-swap-oob="afterbegin:#timeline-list"' in html
    assert "Printer jammed" in html
    assert "Negative" in html
    # the fresh form is empty again
    assert 'name="subject" maxlength="200" required id="id_subject">' in html
    interaction = Interaction.objects.get(subject="Printer jammed")
    assert interaction.author == manager_a
    assert interaction.sentiment == -1
    detail = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    subjects = re.findall(r'<strong class="tl-subject">([^<]+)</strong>', detail)
    assert subjects[0] == "Printer jammed"
    assert subjects[1] == "Older call"


def test_plain_post_logs_and_redirects_back(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("interaction-log", args=[customer_a.pk]), log_data(follow_up_on="2099-01-01")
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-detail", args=[customer_a.pk])
    assert Interaction.objects.get().follow_up_on == dt.date(2099, 1, 1)


def test_bad_input_rerenders_the_form_with_errors_and_writes_nothing(client, manager_a, customer_a):
    client.force_login(manager_a)
    url = reverse("interaction-log", args=[customer_a.pk])
    response = client.post(
        url, log_data(subject="", channel="pigeon", sentiment="7"), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps 2xx answers
    assert html.lstrip().startswith('<form id="interaction-form"')
    assert "This field is required." in html
    assert html.count("Select a valid choice") == 2
    assert "hx-swap-oob" not in html
    assert not Interaction.objects.exists()


def test_service_refusal_shows_on_the_field(client, manager_a, customer_a):
    client.force_login(manager_a)
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("interaction-log", args=[customer_a.pk]), log_data(occurred_at=future)
    )
    assert "An interaction cannot happen in the future." in response.content.decode()
    response = client.post(
        reverse("interaction-log", args=[customer_a.pk]),
        log_data(occurred_at="2026-03-01T10:00", follow_up_on="2026-02-01"),
    )
    assert "The follow-up must be on or after the interaction." in response.content.decode()
    assert not Interaction.objects.exists()


def test_cannot_log_on_another_book(client, manager_a, customer_b):
    client.force_login(manager_a)
    response = client.post(
        reverse("interaction-log", args=[customer_b.pk]), log_data(), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404
    assert not Interaction.objects.exists()


def test_customer_role_cannot_log(client, customer_user, customer_a):
    client.force_login(customer_user)
    assert (
        client.post(reverse("interaction-log", args=[customer_a.pk]), log_data()).status_code == 403
    )
    assert not Interaction.objects.exists()


def test_follow_ups_are_grouped_and_scoped(client, manager_a, manager_b, customer_a, customer_b):
    today = timezone.localdate()
    InteractionFactory(
        customer=customer_a,
        author=manager_a,
        subject="Overdue thing",
        occurred_at=timezone.now() - dt.timedelta(days=9),
        follow_up_on=today - dt.timedelta(days=3),
    )
    InteractionFactory(
        customer=customer_a,
        author=manager_a,
        subject="Today thing",
        occurred_at=timezone.now() - dt.timedelta(days=2),
        follow_up_on=today,
    )
    InteractionFactory(
        customer=customer_a,
        author=manager_a,
        subject="Soon thing",
        follow_up_on=today + dt.timedelta(days=4),
    )
    InteractionFactory(
        customer=customer_a,
        author=manager_a,
        subject="Done thing",
        follow_up_on=today,
        follow_up_done_at=timezone.now(),
    )
    InteractionFactory(
        customer=customer_b, author=manager_b, subject="Bob's thing", follow_up_on=today
    )
    client.force_login(manager_a)
    html = client.get(reverse("follow-up-list")).content.decode()
    sections = dict(re.findall(r'id="group-(\w+)">(.*?)</section>', html, flags=re.S))
    assert "Overdue thing" in sections["overdue"]
    assert "Today thing" in sections["today"]
    assert "Soon thing" in sections["upcoming"]
    assert "Done thing" not in html
    assert "Bob&#x27;s thing" not in html
    assert reverse("customer-detail", args=[customer_a.pk]) in sections["today"]


def test_mark_done_over_htmx_removes_the_row(client, manager_a, customer_a):
    item = InteractionFactory(
        customer=customer_a, author=manager_a, follow_up_on=timezone.localdate()
    )
    client.force_login(manager_a)
    response = client.post(reverse("follow-up-done", args=[item.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    # Only out-of-band counts (tests/relationships/test_quick_action_counts.py): the row
    # itself is swapped for nothing.
    assert "<tr" not in response.content.decode()
    item.refresh_from_db()
    assert item.follow_up_done_at is not None
    assert "Call number" not in client.get(reverse("follow-up-list")).content.decode()


def test_mark_done_without_htmx_redirects(client, manager_a, customer_a):
    item = InteractionFactory(
        customer=customer_a, author=manager_a, follow_up_on=timezone.localdate()
    )
    client.force_login(manager_a)
    response = client.post(reverse("follow-up-done", args=[item.pk]))
    assert response.status_code == 302
    assert client.get(reverse("follow-up-done", args=[item.pk])).status_code == 405


def test_mark_done_on_another_book_is_404(client, manager_a, manager_b, customer_b):
    item = InteractionFactory(
        customer=customer_b, author=manager_b, follow_up_on=timezone.localdate()
    )
    client.force_login(manager_a)
    assert client.post(reverse("follow-up-done", args=[item.pk])).status_code == 404
    item.refresh_from_db()
    assert item.follow_up_done_at is None


def test_mark_done_without_follow_up_is_a_message_not_a_500(client, manager_a, customer_a):
    item = InteractionFactory(customer=customer_a, author=manager_a)
    client.force_login(manager_a)
    response = client.post(reverse("follow-up-done", args=[item.pk]), follow=True)
    assert "This interaction has no follow-up." in response.content.decode()
