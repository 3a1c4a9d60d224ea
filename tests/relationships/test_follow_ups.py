"""Follow-ups on their own: the services' rules, the list (due windows, keyset pages),
the customer page and the forms, with and without HTMX."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from relationships.models import FollowUp, Interaction
from relationships.services import (
    follow_up_add,
    follow_up_complete,
    follow_up_reassign,
    follow_up_reschedule,
)
from tests.factories import CustomerFactory, FollowUpFactory, UserFactory


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


# --- Services --------------------------------------------------------------------------


def test_a_follow_up_on_its_own_goes_to_the_customers_manager(admin_user, customer_a, manager_a):
    follow_up = follow_up_add(
        actor=admin_user, customer=customer_a, due_on=days(3), what="  Send the quote  "
    )
    assert (follow_up.assignee, follow_up.what, follow_up.interaction) == (
        manager_a,
        "Send the quote",
        None,
    )
    assert follow_up.created_by == admin_user
    assert not Interaction.objects.exists()  # nothing happened with the customer yet


def test_an_unmanaged_customers_follow_up_goes_to_whoever_adds_it(admin_user):
    customer = CustomerFactory(account_manager=None)
    follow_up = follow_up_add(actor=admin_user, customer=customer, due_on=days(0), what="Call")
    assert follow_up.assignee == admin_user


def test_an_admin_may_assign_another_active_manager(admin_user, customer_a, manager_b):
    follow_up = follow_up_add(
        actor=admin_user, customer=customer_a, due_on=days(1), what="Cover", assignee=manager_b
    )
    assert follow_up.assignee == manager_b


def test_a_manager_may_not_assign_someone_else(manager_a, manager_b, customer_a):
    with pytest.raises(NotAllowed) as exc:
        follow_up_add(
            actor=manager_a, customer=customer_a, due_on=days(1), what="x", assignee=manager_b
        )
    assert exc.value.field == "assignee"


def test_an_inactive_manager_or_a_customer_cannot_be_the_assignee(
    admin_user, customer_a, customer_user
):
    gone = UserFactory(username="gone", is_active=False)
    for who in (gone, customer_user):
        with pytest.raises(ValidationFailed) as exc:
            follow_up_add(
                actor=admin_user, customer=customer_a, due_on=days(1), what="x", assignee=who
            )
        assert exc.value.field == "assignee"
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize(
    ("due_on", "what", "field"),
    [
        (days(-1), "Call", "due_on"),
        (days(800), "Call", "due_on"),
        (None, "Call", "due_on"),
        (days(1), "   ", "what"),
        (days(1), "Call\x00me", "what"),
        (days(1), "x" * 201, "what"),
    ],
)
def test_bad_follow_up_input_names_the_field(manager_a, customer_a, due_on, what, field):
    with pytest.raises(ValidationFailed) as exc:
        follow_up_add(actor=manager_a, customer=customer_a, due_on=due_on, what=what)
    assert exc.value.field == field
    assert not FollowUp.objects.exists()


def test_not_on_another_managers_customer(manager_a, customer_b):
    with pytest.raises(NotAllowed):
        follow_up_add(actor=manager_a, customer=customer_b, due_on=days(1), what="x")


def test_reschedule_and_its_limits(manager_a, customer_a):
    follow_up = FollowUpFactory(customer=customer_a, due_on=days(-5))
    assert follow_up_reschedule(actor=manager_a, follow_up=follow_up, due_on=days(9)).due_on == (
        days(9)
    )
    with pytest.raises(ValidationFailed):
        follow_up_reschedule(actor=manager_a, follow_up=follow_up, due_on=days(-1))
    follow_up_complete(actor=manager_a, follow_up=follow_up)
    with pytest.raises(Conflict):
        follow_up_reschedule(actor=manager_a, follow_up=follow_up, due_on=days(2))


def test_only_an_admin_reassigns(manager_a, manager_b, admin_user, customer_a):
    follow_up = FollowUpFactory(customer=customer_a)
    with pytest.raises(NotAllowed):
        follow_up_reassign(actor=manager_a, follow_up=follow_up, assignee=manager_b)
    done = follow_up_reassign(actor=admin_user, follow_up=follow_up, assignee=manager_b)
    assert done.assignee == manager_b
    # Bob may now complete it though the customer is not in his book.
    follow_up_complete(actor=manager_b, follow_up=done, note="Called them")


def test_complete_keeps_the_note_and_logs_no_interaction(manager_a, customer_a):
    follow_up = FollowUpFactory(customer=customer_a)
    done = follow_up_complete(actor=manager_a, follow_up=follow_up, note=" They renewed. ")
    again = follow_up_complete(actor=manager_a, follow_up=follow_up, note="Other")
    assert (done.done_by, done.done_note) == (manager_a, "They renewed.")
    assert again.done_at == done.done_at
    assert again.done_note == "They renewed."
    assert not Interaction.objects.exists()


def test_another_manager_cannot_complete(manager_b, customer_a):
    follow_up = FollowUpFactory(customer=customer_a)
    with pytest.raises(NotAllowed):
        follow_up_complete(actor=manager_b, follow_up=follow_up)


# --- The list ----------------------------------------------------------------------------


def _item_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="fu-item[^"]*" id="follow-up-(\d+)"', html)]


def test_the_list_shows_every_due_date_in_windows(client, manager_a, manager_b, customer_a):
    overdue = FollowUpFactory(customer=customer_a, due_on=days(-3), what="Overdue thing")
    today = FollowUpFactory(customer=customer_a, due_on=days(0), what="Today thing")
    week = FollowUpFactory(customer=customer_a, due_on=days(7), what="Week thing")
    later = FollowUpFactory(customer=customer_a, due_on=days(200), what="Far thing")
    FollowUpFactory(customer=customer_a, due_on=days(0), done_at=timezone.now(), done_by=manager_a)
    FollowUpFactory(customer=CustomerFactory(account_manager=manager_b), what="Bob's thing")
    client.force_login(manager_a)

    def shown(when=""):
        url = reverse("follow-up-list") + (f"?when={when}" if when else "")
        return _item_ids(client.get(url).content.decode())

    assert shown() == [overdue.pk, today.pk, week.pk, later.pk]
    assert shown("overdue") == [overdue.pk]
    assert shown("today") == [today.pk]
    assert shown("week") == [week.pk]
    assert shown("later") == [later.pk]
    html = client.get(reverse("follow-up-list")).content.decode()
    assert (
        'aria-current="page">All open <span class="count-pill" id="follow-up-count-all">4</span>'
        in html
    )
    assert 'Later <span class="count-pill" id="follow-up-count-later">1</span>' in html
    assert "Bob&#x27;s thing" not in html


def test_pages_of_the_list_lose_and_repeat_nothing(
    client, manager_a, customer_a, django_assert_max_num_queries
):
    # 123 follow-ups on 9 days: many share a due date, so the id breaks ties across pages.
    FollowUp.objects.bulk_create(
        FollowUp(
            customer=customer_a,
            assignee=manager_a,
            created_by=manager_a,
            due_on=days(i % 9 - 2),
            what=f"Task {i}",
        )
        for i in range(123)
    )
    client.force_login(manager_a)
    seen, url, counts = [], reverse("follow-up-list"), []
    while url:
        with CaptureQueriesContext(connection) as captured:
            html = client.get(url).content.decode()
        counts.append(len(captured))
        seen += _item_ids(html)
        found = re.search(r'id="next-page" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
        assert '<strong id="follow-up-total">123</strong> open' in html
    assert len(counts) == 3  # 50, 50, 23
    expected = list(
        FollowUp.objects.filter(assignee=manager_a)
        .order_by("due_on", "id")
        .values_list("pk", flat=True)
    )
    assert seen == expected
    assert counts[0] == counts[1] == counts[2]


def test_a_bad_cursor_shows_the_first_page(client, manager_a, customer_a):
    FollowUpFactory(customer=customer_a)
    client.force_login(manager_a)
    html = client.get(reverse("follow-up-list") + "?cursor=bm90IGpzb24").content.decode()
    assert "That page link is not valid any more" in html
    assert len(_item_ids(html)) == 1


def test_an_admin_sees_their_own_everyones_or_one_persons(
    client, admin_user, manager_a, customer_a, customer_b
):
    alices = FollowUpFactory(customer=customer_a)
    bobs = FollowUpFactory(customer=customer_b)
    own = FollowUpFactory(customer=customer_a, assignee=admin_user)
    client.force_login(admin_user)
    url = reverse("follow-up-list")
    assert _item_ids(client.get(url).content.decode()) == [own.pk]
    assert sorted(_item_ids(client.get(url + "?assignee=all").content.decode())) == sorted(
        [alices.pk, bobs.pk, own.pk]
    )
    assert _item_ids(client.get(f"{url}?assignee={manager_a.pk}").content.decode()) == [alices.pk]
    # Nonsense falls back to their own list.
    assert _item_ids(client.get(url + "?assignee=x9").content.decode()) == [own.pk]


# --- Forms: add, reschedule, reassign, done ------------------------------------------------


def test_the_customer_page_lists_follow_ups_however_far_out(client, manager_a, customer_a):
    FollowUpFactory(customer=customer_a, due_on=days(300), what="Renewal talk")
    client.force_login(manager_a)
    html = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    assert 'id="follow-ups"' in html
    assert "Renewal talk" in html
    assert 'id="follow-up-form"' in html
    assert 'name="assignee"' not in html.split('id="follow-up-form"')[1].split("</form>")[0]


def test_add_over_htmx_answers_with_the_card_and_a_confirmation(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("follow-up-add", args=[customer_a.pk]),
        {"what": "Send samples", "due_on": days(2).isoformat()},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Follow-up added: Send samples" in html
    assert 'role="status"' in html
    assert FollowUp.objects.get().assignee == manager_a


def test_add_without_javascript_redirects_with_a_message(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("follow-up-add", args=[customer_a.pk]),
        {"what": "Send samples", "due_on": days(2).isoformat()},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("#follow-ups")
    assert "Follow-up added: Send samples" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"what": "x", "due_on": "2020-01-01"}, "cannot be due in the past"),
        ({"what": "x", "due_on": "9999-12-31"}, "up to two years ahead"),
        ({"what": "x", "due_on": "99999-01-01"}, "Enter a valid date"),
        ({"what": "", "due_on": ""}, "This field is required"),
    ],
)
def test_bad_input_on_the_add_form_is_a_field_error(client, manager_a, customer_a, data, message):
    client.force_login(manager_a)
    url = reverse("follow-up-add", args=[customer_a.pk])
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.post(url, data, **headers)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not FollowUp.objects.exists()


def test_a_null_byte_is_refused_naming_the_field(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("follow-up-add", args=[customer_a.pk]),
        {"what": "a\x00b", "due_on": days(1).isoformat()},
    )
    assert response.status_code == 400
    assert "“what” contains a null character" in response.content.decode()
    assert not FollowUp.objects.exists()


def test_admin_add_with_an_unknown_or_inactive_assignee(client, admin_user, customer_a):
    gone = UserFactory(username="gone", is_active=False)
    client.force_login(admin_user)
    for assignee in ("999999", str(gone.pk), "abc"):
        response = client.post(
            reverse("follow-up-add", args=[customer_a.pk]),
            {"what": "x", "due_on": days(1).isoformat(), "assignee": assignee},
        )
        assert "Choose an active account manager or admin" in response.content.decode()
    assert not FollowUp.objects.exists()


def test_pick_a_customer_then_add(client, manager_a, customer_a, customer_b):
    client.force_login(manager_a)
    html = client.get(reverse("follow-up-pick-customer") + "?q=a").content.decode()
    assert reverse("follow-up-add", args=[customer_a.pk]) in html
    assert reverse("follow-up-add", args=[customer_b.pk]) not in html
    assert client.get(reverse("follow-up-pick-customer") + "?q=%00").status_code == 400


def test_reschedule_over_htmx_and_without(client, manager_a, customer_a):
    follow_up = FollowUpFactory(customer=customer_a, due_on=days(0))
    client.force_login(manager_a)
    url = reverse("follow-up-reschedule", args=[follow_up.pk])
    response = client.post(url, {"due_on": days(5).isoformat()}, HTTP_HX_REQUEST="true")
    assert "Moved to" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.due_on == days(5)
    bad = client.post(url, {"due_on": "2001-01-01"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'role="alert"' in bad
    assert "cannot be due in the past" in bad
    page = client.post(url, {"due_on": "nonsense"})
    assert page.status_code == 200
    assert "Enter a valid date" in page.content.decode()
    back = client.post(url, {"due_on": days(6).isoformat(), "next": "https://evil.example/"})
    assert back["Location"] == reverse("follow-up-list")


def test_reassign_is_for_admins(client, admin_user, manager_a, manager_b, customer_a):
    follow_up = FollowUpFactory(customer=customer_a)
    url = reverse("follow-up-reassign", args=[follow_up.pk])
    client.force_login(manager_a)
    assert client.post(url, {"assignee": manager_b.pk}).status_code == 403
    client.force_login(admin_user)
    response = client.post(url, {"assignee": manager_b.pk}, HTTP_HX_REQUEST="true")
    assert f"Now with {manager_b}" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.assignee == manager_b
    client.force_login(manager_b)
    assert follow_up.pk in _item_ids(client.get(reverse("follow-up-list")).content.decode())


def test_done_with_a_note_over_htmx(client, manager_a, customer_a):
    follow_up = FollowUpFactory(customer=customer_a, what="Ring back")
    client.force_login(manager_a)
    response = client.post(
        reverse("follow-up-done", args=[follow_up.pk]),
        {"note": "Booked a demo", "place": "list"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Done: Ring back." in html
    assert "Booked a demo" in html
    assert "fu-done" in html
    assert follow_up.pk not in _item_ids(client.get(reverse("follow-up-list")).content.decode())
    customer_page = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    assert "Booked a demo" in customer_page


def test_another_books_follow_up_is_a_404(client, manager_a, customer_b):
    follow_up = FollowUpFactory(customer=customer_b)
    client.force_login(manager_a)
    for name in ("follow-up-done", "follow-up-reschedule"):
        assert client.post(reverse(name, args=[follow_up.pk]), {}).status_code == 404
    follow_up.refresh_from_db()
    assert follow_up.done_at is None
