"""The at-risk queue knows what happened today, and a manager marks a flag handled:
the service's rules, the page and the panel, the API, and the next night's answer."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from customers.dates import local_midnight
from customers.errors import Conflict, NotAllowed, ValidationFailed
from relationships.models import HANDLED_NOTE_MAX, RelationshipStrategy, RiskFlag
from relationships.nightly import nightly_run
from relationships.services import interaction_log, risk_flag_handle
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    PurchaseFactory,
    RiskFlagFactory,
    SegmentFactory,
)

NOT_IN_BOOK = "This customer is not in your book."


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def lapse(customer, as_of, amount):
    """Twelve monthly purchases that stopped 200 days before `as_of`: at risk."""
    for k in range(12):
        PurchaseFactory(
            customer=customer,
            amount=Decimal(amount),
            occurred_at=as_of - dt.timedelta(days=200 + 30 * k),
        )


def make_book(manager_a, manager_b, night: dt.date) -> dict:
    as_of = local_midnight(night)
    segment = SegmentFactory(name="Subscribers")
    RelationshipStrategy.objects.create(
        segment=segment, relationship_types=["long_term"], goal="retain", expected_gap_days=30
    )
    book = {
        "alpha": CustomerFactory(name="Alpha Lapsed", segment=segment, account_manager=manager_a),
        "charlie": CustomerFactory(
            name="Charlie Lapsed", segment=segment, account_manager=manager_a
        ),
        "bravo": CustomerFactory(name="Bravo Lapsed", segment=segment, account_manager=manager_b),
    }
    lapse(book["alpha"], as_of, "250.00")
    lapse(book["charlie"], as_of, "120.00")
    lapse(book["bravo"], as_of, "90.00")
    steady = CustomerFactory(name="Steady Buyer", segment=segment, account_manager=manager_a)
    for k in range(12):
        PurchaseFactory(customer=steady, occurred_at=as_of - dt.timedelta(days=5 + 30 * k))
    return book


def flag_of(customer) -> RiskFlag:
    return RiskFlag.objects.get(customer=customer, cleared_on__isnull=True)


@pytest.fixture
def flagged(manager_a, manager_b):
    """Scored by tonight's run (today's date), so "today" starts at local midnight."""
    book = make_book(manager_a, manager_b, timezone.localdate())
    nightly_run(run_date=timezone.localdate())
    return book


# --- The service ---------------------------------------------------------------------------


def test_the_account_manager_marks_their_flag_handled(flagged, manager_a):
    flag = flag_of(flagged["alpha"])
    handled = risk_flag_handle(actor=manager_a, flag=flag, note="  Called; visit on Friday.  ")
    assert handled.handled is True
    assert handled.handled_note == "Called; visit on Friday."
    assert handled.handled_by == manager_a
    assert handled.handled_at is not None
    assert handled.is_open  # still a flag, only lower in the queue


def test_another_manager_gets_the_books_refusal(flagged, manager_b):
    with pytest.raises(NotAllowed, match=NOT_IN_BOOK):
        risk_flag_handle(actor=manager_b, flag=flag_of(flagged["alpha"]), note="Called")
    assert flag_of(flagged["alpha"]).handled is False


def test_an_admin_handles_any_flag(flagged, admin_user):
    handled = risk_flag_handle(actor=admin_user, flag=flag_of(flagged["bravo"]), note="Offered")
    assert handled.handled_by == admin_user


def test_a_customer_user_may_not_handle(flagged, customer_user):
    with pytest.raises(NotAllowed):
        risk_flag_handle(actor=customer_user, flag=flag_of(flagged["alpha"]), note="Hi")


@pytest.mark.parametrize(
    ("note", "words"),
    [
        ("", "Say what you did"),
        ("   \n ", "Say what you did"),
        ("Called\x00", "NUL character"),
        ("x" * (HANDLED_NOTE_MAX + 1), f"Keep the note to {HANDLED_NOTE_MAX} characters"),
    ],
)
def test_a_bad_note_is_refused_with_a_clear_error(flagged, manager_a, note, words):
    with pytest.raises(ValidationFailed, match=words) as refused:
        risk_flag_handle(actor=manager_a, flag=flag_of(flagged["alpha"]), note=note)
    assert refused.value.field == "note"
    assert flag_of(flagged["alpha"]).handled_at is None


def test_a_cleared_flag_has_nothing_left_to_handle(flagged, manager_a):
    flag = flag_of(flagged["alpha"])
    RiskFlag.objects.filter(pk=flag.pk).update(cleared_on=timezone.localdate())
    with pytest.raises(Conflict, match="cleared"):
        risk_flag_handle(actor=manager_a, flag=flag, note="Called")


def test_the_database_refuses_a_handling_without_its_note(flagged):
    flag = flag_of(flagged["alpha"])
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskFlag.objects.filter(pk=flag.pk).update(handled_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskFlag.objects.filter(pk=flag.pk).update(reraised_on=timezone.localdate())


# --- Live signals on the queue and the panel --------------------------------------------


def test_the_queue_shows_contacted_today_after_a_call_is_logged(client, flagged, manager_a):
    client.force_login(manager_a)
    assert "Contacted today" not in client.get(reverse("at-risk")).content.decode()
    interaction_log(
        customer=flagged["alpha"],
        author=manager_a,
        channel="phone",
        kind="check_in",
        subject="Checked in after the flag",
    )
    page = client.get(reverse("at-risk")).content.decode()
    row = page[page.index("Alpha Lapsed") : page.index("Charlie Lapsed")]
    assert "Contacted today" in row
    assert "Bought today" not in page


def test_a_contact_before_midnight_or_by_the_customer_is_not_today(
    client, flagged, manager_a, customer_user
):
    yesterday = local_midnight(timezone.localdate()) - dt.timedelta(hours=1)
    InteractionFactory(customer=flagged["alpha"], author=manager_a, occurred_at=yesterday)
    InteractionFactory(customer=flagged["alpha"], author=customer_user, occurred_at=timezone.now())
    client.force_login(manager_a)
    assert "Contacted today" not in client.get(reverse("at-risk")).content.decode()


def test_the_queue_and_panel_show_bought_today_after_a_purchase(client, flagged, manager_a):
    PurchaseFactory(customer=flagged["charlie"], occurred_at=timezone.now())
    client.force_login(manager_a)
    page = client.get(reverse("at-risk")).content.decode()
    row = page[page.index("Charlie Lapsed") :]
    assert "Bought today" in row
    assert "Bought today" not in page[: page.index("Charlie Lapsed")]
    detail = client.get(reverse("customer-detail", args=[flagged["charlie"].pk]))
    assert "Bought today" in detail.content.decode()


def test_the_panel_shows_contacted_today(client, flagged, manager_a, admin_user):
    InteractionFactory(customer=flagged["alpha"], author=admin_user, occurred_at=timezone.now())
    client.force_login(manager_a)
    page = client.get(reverse("customer-detail", args=[flagged["alpha"].pk])).content.decode()
    panel = page[page.index('class="card risk-panel"') :]
    assert "Contacted today" in panel


def test_the_live_signals_cost_no_query_per_row(
    client, flagged, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    with django_assert_max_num_queries(50) as few:
        client.get(reverse("at-risk"))
    for k in range(5):
        RiskFlagFactory(customer=CustomerFactory(name=f"Extra {k}"))
        InteractionFactory(customer=flagged["alpha"], author=admin_user, occurred_at=timezone.now())
    with django_assert_max_num_queries(len(few)):
        page = client.get(reverse("at-risk")).content.decode()
    assert page.count("Extra ") == 5


# --- Handling from the page --------------------------------------------------------------


def test_handled_flags_come_after_open_ones_on_the_page(client, flagged, manager_a):
    client.force_login(manager_a)
    page = client.get(reverse("at-risk")).content.decode()
    assert page.index("Alpha Lapsed") < page.index("Charlie Lapsed")  # more value at risk

    response = client.post(
        reverse("risk-flag-handle", args=[flag_of(flagged["alpha"]).pk]),
        {"note": "Called, they are moving offices; call back in May.", "next": reverse("at-risk")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("at-risk")
    page = client.get(reverse("at-risk")).content.decode()
    assert "Alpha Lapsed: marked handled" in page  # the message after the redirect
    rows = page[page.index("<tbody>") :]
    assert rows.index("Charlie Lapsed") < rows.index("Alpha Lapsed")
    assert "1 of them handled" in page
    assert "call back in May" in rows


def test_mark_handled_over_htmx_swaps_the_handling_block(client, flagged, manager_a):
    client.force_login(manager_a)
    flag = flag_of(flagged["alpha"])
    response = client.post(
        reverse("risk-flag-handle", args=[flag.pk]),
        {"note": "Sent the renewal offer"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<div class="risk-handle" id="risk-handle-{flag.pk}">')
    assert "Handled" in html
    assert "just now" in html
    assert "by you" in html
    assert "Sent the renewal offer" in html
    assert "<html" not in html


def test_an_empty_note_is_a_form_error_with_or_without_htmx(client, flagged, manager_a):
    client.force_login(manager_a)
    url = reverse("risk-flag-handle", args=[flag_of(flagged["alpha"]).pk])
    page = client.post(url, {"note": "  "})
    assert page.status_code == 200
    assert "Say what you did" in page.content.decode()
    # A NUL is refused before the service sees it (the form field's validator; the app's
    # NUL middleware answers first where it is installed), in words either way.
    fragment = client.post(url, {"note": "a\x00b"}, HTTP_HX_REQUEST="true")
    assert "null character" in fragment.content.decode().lower()
    assert flag_of(flagged["alpha"]).handled_at is None


def test_another_managers_flag_is_a_404_on_the_page(client, flagged, manager_b):
    client.force_login(manager_b)
    url = reverse("risk-flag-handle", args=[flag_of(flagged["alpha"]).pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"note": "Called"}).status_code == 404


def test_the_panel_shows_the_handling_note(client, flagged, manager_a):
    risk_flag_handle(actor=manager_a, flag=flag_of(flagged["alpha"]), note="Lunch booked")
    client.force_login(manager_a)
    page = client.get(reverse("customer-detail", args=[flagged["alpha"].pk])).content.decode()
    panel = page[page.index('class="card risk-panel"') :]
    assert "Handled" in panel
    assert "Lunch booked" in panel
    assert "Change the note" in panel


def test_an_unsafe_next_goes_back_to_the_queue(client, flagged, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("risk-flag-handle", args=[flag_of(flagged["alpha"]).pk]),
        {"note": "Called", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("at-risk")


# --- The API -------------------------------------------------------------------------------


def test_the_api_handles_a_flag(flagged, manager_a):
    flag = flag_of(flagged["alpha"])
    response = api(manager_a).post(
        f"/api/v1/risk-flags/{flag.pk}/handle/", {"note": " Called "}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["handled"] is True
    assert body["handled_note"] == "Called"
    assert body["handled_by"] == manager_a.pk
    assert body["handled_by_name"] == str(manager_a)
    assert body["reraised_on"] is None
    assert body["contacted_today"] is False


@pytest.mark.parametrize(
    ("payload", "words"),
    [({}, "required"), ({"note": "  "}, "Say what you did"), ({"note": "a\x00"}, "Null")],
)
def test_the_api_refuses_a_bad_note_with_a_400(flagged, manager_a, payload, words):
    flag = flag_of(flagged["alpha"])
    response = api(manager_a).post(f"/api/v1/risk-flags/{flag.pk}/handle/", payload, format="json")
    assert response.status_code == 400
    assert words in str(response.json()["note"])


def test_the_api_refusals_outside_the_book_and_after_clearing(flagged, manager_a, manager_b):
    flag = flag_of(flagged["alpha"])
    url = f"/api/v1/risk-flags/{flag.pk}/handle/"
    assert api(manager_b).post(url, {"note": "Hi"}, format="json").status_code == 404
    RiskFlag.objects.filter(pk=flag.pk).update(cleared_on=timezone.localdate())
    assert api(manager_a).post(url, {"note": "Hi"}, format="json").status_code == 409


def test_the_api_queue_lists_handled_flags_last_and_says_what_happened_today(flagged, admin_user):
    def names():
        rows = api(admin_user).get("/api/v1/risk-flags/?open=true").json()["results"]
        return [r["customer_name"] for r in rows], rows

    order, _ = names()
    assert order == ["Alpha Lapsed", "Charlie Lapsed", "Bravo Lapsed"]
    risk_flag_handle(actor=admin_user, flag=flag_of(flagged["alpha"]), note="Called")
    PurchaseFactory(customer=flagged["bravo"], occurred_at=timezone.now())
    order, rows = names()
    assert order == ["Charlie Lapsed", "Bravo Lapsed", "Alpha Lapsed"]
    assert [r["bought_today"] for r in rows] == [False, True, False]
    assert [r["handled"] for r in rows] == [False, False, True]
    # An explicit ordering still wins, with the usual cursor.
    by_id = api(admin_user).get("/api/v1/risk-flags/?open=true&ordering=id").json()["results"]
    assert [r["id"] for r in by_id] == sorted(r["id"] for r in by_id)


def test_the_api_queue_pages_by_keyset_through_ties(admin_user):
    # Equal values at risk and scores across both runs, so every tie-break is walked.
    for k in range(7):
        flag = RiskFlagFactory(
            customer=CustomerFactory(name=f"Tied {k}"),
            value_at_risk=Decimal("100.00") if k % 2 else Decimal("250.00"),
            score=70 if k < 4 else 90,
        )
        if k % 3 == 0:
            risk_flag_handle(actor=admin_user, flag=flag, note="Called")
    every = RiskFlag.objects.filter(cleared_on__isnull=True).order_by(
        "handled", "-value_at_risk", "-score", "id"
    )
    walked, url = [], "/api/v1/risk-flags/?open=true&page_size=2"
    while url:
        body = api(admin_user).get(url).json()
        assert body["previous"] is None
        walked += [r["id"] for r in body["results"]]
        url = body["next"]
    assert walked == [f.pk for f in every]


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsMiwzXQ", "W2ZhbHNlLCJOYU4iLDEsMV0"])
def test_a_bad_queue_cursor_is_a_400(flagged, admin_user, cursor):
    response = api(admin_user).get(f"/api/v1/risk-flags/?open=true&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()


# --- The next night ------------------------------------------------------------------------


@pytest.fixture
def yesterday_flagged(manager_a, manager_b):
    """Scored by yesterday's run; today's run is the "next night"."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    book = make_book(manager_a, manager_b, yesterday)
    nightly_run(run_date=yesterday)
    return book


def handled_yesterday(flag: RiskFlag, actor, note: str) -> RiskFlag:
    """Handled yesterday afternoon, before the data of today's night ends."""
    risk_flag_handle(actor=actor, flag=flag, note=note)
    afternoon = local_midnight(timezone.localdate()) - dt.timedelta(hours=8)
    RiskFlag.objects.filter(pk=flag.pk).update(handled_at=afternoon)
    return RiskFlag.objects.get(pk=flag.pk)


def test_the_next_night_reraises_a_handled_flag_still_at_risk(client, yesterday_flagged, manager_a):
    alpha = flag_of(yesterday_flagged["alpha"])
    handled_yesterday(alpha, manager_a, "Left a voicemail")
    run = nightly_run(run_date=timezone.localdate())
    assert run.rows["flags_reraised"] == 1

    again = flag_of(yesterday_flagged["alpha"])
    assert again.pk == alpha.pk  # the same flag, still open
    assert again.reraised_on == timezone.localdate()
    assert again.handled is False
    assert again.handled_note == "Left a voicemail"  # kept, to be quoted
    client.force_login(manager_a)
    page = client.get(reverse("at-risk")).content.decode()
    assert page.index("Alpha Lapsed") < page.index("Charlie Lapsed")  # back on top
    assert "Still at risk after being handled" in page
    assert "Left a voicemail" in page
    detail = client.get(reverse("customer-detail", args=[alpha.customer_id])).content.decode()
    assert "Still at risk after being handled" in detail

    # The same night run again changes nothing.
    nightly_run(run_date=timezone.localdate())
    assert flag_of(yesterday_flagged["alpha"]).reraised_on == timezone.localdate()
    # Handled again: below the open ones until the next night.
    handled = risk_flag_handle(actor=manager_a, flag=again, note="Spoke to them")
    assert (handled.handled, handled.reraised_on) == (True, None)


def test_the_next_night_clears_a_handled_flag_no_longer_at_risk(yesterday_flagged, manager_a):
    charlie = flag_of(yesterday_flagged["charlie"])
    handled_yesterday(charlie, manager_a, "Sent an offer")
    PurchaseFactory(
        customer=yesterday_flagged["charlie"],
        amount=Decimal("120.00"),
        occurred_at=local_midnight(timezone.localdate()) - dt.timedelta(hours=3),
    )
    nightly_run(run_date=timezone.localdate())
    charlie.refresh_from_db()
    assert charlie.cleared_on == timezone.localdate()
    assert charlie.reraised_on is None
    assert charlie.handled_note == "Sent an offer"


def test_a_flag_handled_after_the_nights_data_stays_handled(yesterday_flagged, manager_a):
    # Handled this morning: tonight's data (up to midnight) cannot know what was done.
    risk_flag_handle(
        actor=manager_a, flag=flag_of(yesterday_flagged["alpha"]), note="Called this morning"
    )
    nightly_run(run_date=timezone.localdate())
    flag = flag_of(yesterday_flagged["alpha"])
    assert (flag.handled, flag.reraised_on) == (True, None)
