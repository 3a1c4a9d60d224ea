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
    due = timezone.localdate() + dt.timedelta(days=40)
    response = client.post(
        reverse("interaction-log", args=[customer_a.pk]), log_data(follow_up_on=due.isoformat())
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-detail", args=[customer_a.pk])
    interaction = Interaction.objects.get()
    assert interaction.follow_up_on == due
    # The follow-up it asked for is on the manager's list, however far out.
    assert (interaction.follow_up.due_on, interaction.follow_up.assignee) == (due, manager_a)


def test_a_follow_up_years_ahead_is_a_field_error(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("interaction-log", args=[customer_a.pk]), log_data(follow_up_on="2099-01-01")
    )
    assert response.status_code == 200
    assert "Choose a day up to two years ahead" in response.content.decode()
    assert not Interaction.objects.exists()


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
