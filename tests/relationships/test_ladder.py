"""The ladder of loyalty: rule suggestions (set-based, idempotent), moves by hand, decisions,
the Ladder page, the customer's ladder page and the API."""

import datetime as dt
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import StageChange
from loyalty.models import LedgerEntry
from relationships.models import LadderSuggestion
from relationships.services import ladder_move, ladder_suggestion_decide, ladder_suggestions_refresh
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    LadderSuggestionFactory,
    MembershipFactory,
    PurchaseFactory,
)

TODAY = timezone.localdate()


def _open(customer):
    return LadderSuggestion.objects.get(customer=customer, status="open")


def _referral(customer, key="ref-1", code="referral"):
    membership = MembershipFactory(customer=customer)
    LedgerEntry.objects.create(
        membership=membership,
        kind="earn",
        points=50,
        remaining=50,
        idempotency_key=key,
        event_code=code,
    )


# --- Rules ---------------------------------------------------------------------------------


def test_repeat_purchases_suggest_client_and_say_why(customer_a):
    PurchaseFactory.create_batch(2, customer=customer_a)

    made = ladder_suggestions_refresh(run_date=TODAY)

    suggestion = _open(customer_a)
    assert made == 1
    assert (suggestion.from_stage, suggestion.to_stage) == ("customer", "client")
    assert suggestion.reason == "2 purchases (a client buys again)"
    assert suggestion.rule == "repeat_purchases"
    customer_a.refresh_from_db()
    assert customer_a.stage == "customer"  # a rule only suggests


def test_one_purchase_suggests_nothing(customer_a):
    PurchaseFactory(customer=customer_a)

    assert ladder_suggestions_refresh(run_date=TODAY) == 0
    assert not LadderSuggestion.objects.exists()


def test_positive_feedback_suggests_supporter_neutral_does_not(manager_a):
    praised = CustomerFactory(account_manager=manager_a, stage="client")
    neutral = CustomerFactory(account_manager=manager_a, stage="client")
    InteractionFactory(customer=praised, author=manager_a, kind="feedback", sentiment=2)
    InteractionFactory(customer=praised, author=manager_a, kind="feedback", sentiment=1)
    InteractionFactory(customer=neutral, author=manager_a, kind="feedback", sentiment=0)
    InteractionFactory(customer=neutral, author=manager_a, kind="complaint", sentiment=2)

    ladder_suggestions_refresh(run_date=TODAY)

    assert _open(praised).to_stage == "supporter"
    assert _open(praised).reason == "2 positive feedback interactions"
    assert not LadderSuggestion.objects.filter(customer=neutral).exists()


def test_loyalty_referral_or_review_suggests_advocate(customer_a, customer_b):
    _referral(customer_a, code="referral")
    _referral(customer_b, code="review")
    PurchaseFactory.create_batch(3, customer=customer_b)  # the highest rule wins

    ladder_suggestions_refresh(run_date=TODAY)

    assert _open(customer_a).to_stage == "advocate"
    assert _open(customer_b).to_stage == "advocate"
    assert _open(customer_a).reason == "1 referral or review recorded in loyalty"


def test_no_suggestion_for_customers_already_there_or_defected(manager_a):
    advocate = CustomerFactory(account_manager=manager_a, stage="advocate")
    gone = CustomerFactory(account_manager=manager_a, stage="customer", status="defected")
    for c in (advocate, gone):
        PurchaseFactory.create_batch(2, customer=c)
        _referral(c, key=f"k{c.pk}")

    assert ladder_suggestions_refresh(run_date=TODAY) == 0


def test_purchases_after_the_run_date_do_not_count(customer_a):
    PurchaseFactory(customer=customer_a, occurred_at=timezone.now() - dt.timedelta(days=10))
    PurchaseFactory(customer=customer_a, occurred_at=timezone.now() - dt.timedelta(hours=1))

    assert ladder_suggestions_refresh(run_date=TODAY - dt.timedelta(days=2)) == 0
    assert ladder_suggestions_refresh(run_date=TODAY) == 1


def test_refresh_is_idempotent_for_a_date(customer_a, customer_b):
    PurchaseFactory.create_batch(2, customer=customer_a)
    PurchaseFactory.create_batch(2, customer=customer_b)

    first = ladder_suggestions_refresh(run_date=TODAY)
    rows = list(
        LadderSuggestion.objects.order_by("pk").values_list("pk", "customer", "to_stage", "reason")
    )
    second = ladder_suggestions_refresh(run_date=TODAY)

    assert (first, second) == (2, 0)
    assert (
        list(
            LadderSuggestion.objects.order_by("pk").values_list(
                "pk", "customer", "to_stage", "reason"
            )
        )
        == rows
    )


def test_open_suggestion_is_raised_when_a_higher_rule_applies(customer_a):
    PurchaseFactory.create_batch(2, customer=customer_a)
    ladder_suggestions_refresh(run_date=TODAY)
    _referral(customer_a)

    assert ladder_suggestions_refresh(run_date=TODAY) == 1
    assert LadderSuggestion.objects.filter(customer=customer_a).count() == 1
    assert _open(customer_a).to_stage == "advocate"


def test_dismissed_move_is_not_suggested_again(customer_a, manager_a):
    PurchaseFactory.create_batch(2, customer=customer_a)
    ladder_suggestions_refresh(run_date=TODAY)
    ladder_suggestion_decide(actor=manager_a, suggestion=_open(customer_a), accept=False)

    assert ladder_suggestions_refresh(run_date=TODAY) == 0
    assert not LadderSuggestion.objects.filter(status="open").exists()


def test_open_suggestion_already_reached_by_hand_is_removed(customer_a):
    LadderSuggestionFactory(customer=customer_a, to_stage="client")
    customer_a.stage = "supporter"
    customer_a.save()

    ladder_suggestions_refresh(run_date=TODAY)

    assert not LadderSuggestion.objects.exists()


def test_refresh_runs_the_same_number_of_queries_for_any_book_size(manager_a):
    def queries_for(n):
        LadderSuggestion.objects.all().delete()
        for _ in range(n):
            c = CustomerFactory(account_manager=manager_a)
            PurchaseFactory.create_batch(2, customer=c)
        LadderSuggestion.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            ladder_suggestions_refresh(run_date=TODAY)
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(12)


def test_refresh_refuses_a_future_date(db):
    with pytest.raises(ValidationFailed):
        ladder_suggestions_refresh(run_date=TODAY + dt.timedelta(days=1))


def test_command_refuses_a_bad_date_and_reports_its_count(customer_a, capsys):
    with pytest.raises(CommandError, match="--date must be a date"):
        call_command("suggest_ladder_moves", "--date", "tomorrow")
    PurchaseFactory.create_batch(2, customer=customer_a)
    call_command("suggest_ladder_moves")
    assert "1 new or changed" in capsys.readouterr().out


# --- Services ------------------------------------------------------------------------------


def test_manager_moves_own_customer_and_the_move_is_recorded(manager_a, customer_a):
    change = ladder_move(
        actor=manager_a, customer=customer_a, to_stage="partner", reason="Signed a joint venture"
    )

    customer_a.refresh_from_db()
    assert customer_a.stage == "partner"
    assert (change.from_stage, change.to_stage, change.changed_by, change.reason) == (
        "customer",
        "partner",
        manager_a,
        "Signed a joint venture",
    )


def test_move_down_is_allowed_with_a_reason(manager_a, customer_a):
    ladder_move(
        actor=manager_a, customer=customer_a, to_stage="prospect", reason="Refunded everything"
    )
    customer_a.refresh_from_db()
    assert customer_a.stage == "prospect"


@pytest.mark.parametrize(
    ("to_stage", "reason", "field"),
    [
        ("client", "  ", "reason"),
        ("king", "Because", "to_stage"),
        ("customer", "Already", "to_stage"),
    ],
)
def test_bad_move_is_refused_and_nothing_written(manager_a, customer_a, to_stage, reason, field):
    with pytest.raises(ValidationFailed) as exc:
        ladder_move(actor=manager_a, customer=customer_a, to_stage=to_stage, reason=reason)
    assert exc.value.field == field
    customer_a.refresh_from_db()
    assert customer_a.stage == "customer"
    assert not StageChange.objects.exists()


def test_manager_cannot_move_another_managers_customer(manager_a, customer_b):
    with pytest.raises(NotAllowed):
        ladder_move(actor=manager_a, customer=customer_b, to_stage="client", reason="Mine now")
    customer_b.refresh_from_db()
    assert customer_b.stage == "customer"
    assert not StageChange.objects.exists()


def test_accepting_moves_the_customer_with_the_rules_reason(manager_a, customer_a):
    suggestion = LadderSuggestionFactory(customer=customer_a)

    decided = ladder_suggestion_decide(actor=manager_a, suggestion=suggestion, accept=True)

    customer_a.refresh_from_db()
    change = StageChange.objects.get()
    assert customer_a.stage == "client"
    assert (decided.status, decided.decided_by) == ("accepted", manager_a)
    assert (change.rule, change.reason, change.changed_by) == (
        suggestion.rule,
        suggestion.reason,
        manager_a,
    )


def test_deciding_twice_is_a_conflict(manager_a, customer_a):
    suggestion = LadderSuggestionFactory(customer=customer_a)
    ladder_suggestion_decide(actor=manager_a, suggestion=suggestion, accept=False)

    with pytest.raises(Conflict):
        ladder_suggestion_decide(actor=manager_a, suggestion=suggestion, accept=True)
    customer_a.refresh_from_db()
    assert customer_a.stage == "customer"


def test_manager_cannot_decide_on_another_managers_customer(manager_a, customer_b):
    suggestion = LadderSuggestionFactory(customer=customer_b)
    with pytest.raises(NotAllowed):
        ladder_suggestion_decide(actor=manager_a, suggestion=suggestion, accept=True)
    suggestion.refresh_from_db()
    assert suggestion.status == "open"


def test_one_open_suggestion_per_customer_is_enforced_by_the_database(customer_a):
    from django.db import IntegrityError, transaction

    LadderSuggestionFactory(customer=customer_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        LadderSuggestionFactory(customer=customer_a, to_stage="advocate")


# --- Pages ---------------------------------------------------------------------------------


def test_ladder_page_shows_funnel_moves_and_only_own_suggestions(
    client, manager_a, customer_a, customer_b
):
    mine = LadderSuggestionFactory(customer=customer_a)
    LadderSuggestionFactory(customer=customer_b)
    ladder_move(actor=manager_a, customer=customer_a, to_stage="client", reason="Up")
    ladder_move(actor=manager_a, customer=customer_a, to_stage="customer", reason="Down again")
    mine = LadderSuggestionFactory(customer=customer_a)  # the move cleared the old one
    client.force_login(manager_a)

    page = client.get(reverse("ladder")).content.decode()

    assert f'id="suggestion-{mine.pk}"' in page
    assert customer_a.name in page
    assert customer_b.name not in page
    assert 'id="moves-up">1<' in page
    assert 'id="moves-down">1<' in page
    assert 'id="suggestion-total">1<' in page


def test_accept_from_the_ladder_page(client, manager_a, customer_a):
    suggestion = LadderSuggestionFactory(customer=customer_a)
    client.force_login(manager_a)

    response = client.post(
        reverse("ladder-suggestion-decide", args=[suggestion.pk]), {"decision": "accept"}
    )

    assert response.status_code == 302
    customer_a.refresh_from_db()
    assert customer_a.stage == "client"
    assert "is now a client" in client.get(reverse("ladder")).content.decode()


def test_dismiss_over_htmx_removes_the_row(client, manager_a, customer_a):
    suggestion = LadderSuggestionFactory(customer=customer_a)
    client.force_login(manager_a)

    response = client.post(
        reverse("ladder-suggestion-decide", args=[suggestion.pk]),
        {"decision": "dismiss"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "<tr" not in response.content.decode()  # the row goes; counts come out of band
    suggestion.refresh_from_db()
    assert suggestion.status == "dismissed"


def test_page_decision_on_another_managers_suggestion_is_404(client, manager_a, customer_b):
    suggestion = LadderSuggestionFactory(customer=customer_b)
    client.force_login(manager_a)
    response = client.post(
        reverse("ladder-suggestion-decide", args=[suggestion.pk]), {"decision": "accept"}
    )
    assert response.status_code == 404
    suggestion.refresh_from_db()
    assert suggestion.status == "open"


def test_page_bad_decision_says_so(client, manager_a, customer_a):
    suggestion = LadderSuggestionFactory(customer=customer_a)
    client.force_login(manager_a)
    response = client.post(
        reverse("ladder-suggestion-decide", args=[suggestion.pk]),
        {"decision": "maybe"},
        follow=True,
    )
    assert "Choose accept or dismiss." in response.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.status == "open"


def test_customer_ladder_page_moves_by_hand_and_shows_history(client, manager_a, customer_a):
    client.force_login(manager_a)
    url = reverse("customer-ladder", args=[customer_a.pk])

    missing = client.post(url, {"to_stage": "client", "reason": ""})
    assert missing.status_code == 200
    assert "This field is required." in missing.content.decode()
    assert not StageChange.objects.exists()

    response = client.post(
        url, {"to_stage": "client", "reason": "Second order came in"}, follow=True
    )
    page = response.content.decode()
    assert 'id="current-stage">Client<' in page
    assert "Second order came in" in page
    assert "moved from customer to client" in page


def test_customer_ladder_page_of_another_managers_customer_is_404(client, manager_a, customer_b):
    client.force_login(manager_a)
    assert client.get(reverse("customer-ladder", args=[customer_b.pk])).status_code == 404
    assert (
        client.post(
            reverse("customer-ladder", args=[customer_b.pk]), {"to_stage": "client", "reason": "x"}
        ).status_code
        == 404
    )
    assert not StageChange.objects.exists()


# --- API -----------------------------------------------------------------------------------


def test_api_lists_own_suggestions_and_decides(client, manager_a, customer_a, customer_b):
    mine = LadderSuggestionFactory(customer=customer_a)
    theirs = LadderSuggestionFactory(customer=customer_b)
    client.force_login(manager_a)

    listed = client.get("/api/v1/ladder-suggestions/?status=open").json()["results"]
    assert [s["id"] for s in listed] == [mine.pk]

    bad = client.post(
        f"/api/v1/ladder-suggestions/{mine.pk}/decide/",
        {"decision": "perhaps"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "decision" in bad.json()

    ok = client.post(
        f"/api/v1/ladder-suggestions/{mine.pk}/decide/",
        {"decision": "accept"},
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "accepted"
    again = client.post(
        f"/api/v1/ladder-suggestions/{mine.pk}/decide/",
        {"decision": "accept"},
        content_type="application/json",
    )
    assert again.status_code == 409

    other = client.post(
        f"/api/v1/ladder-suggestions/{theirs.pk}/decide/",
        {"decision": "accept"},
        content_type="application/json",
    )
    assert other.status_code == 404


def test_api_moves_by_hand_with_clear_errors(client, manager_a, customer_a, customer_b):
    client.force_login(manager_a)
    url = "/api/v1/ladder-moves/"

    ok = client.post(
        url,
        {"customer": customer_a.pk, "to_stage": "advocate", "reason": "Spoke at our event"},
        content_type="application/json",
    )
    assert ok.status_code == 201
    assert (ok.json()["from_stage"], ok.json()["to_stage"]) == ("customer", "advocate")

    no_reason = client.post(
        url, {"customer": customer_a.pk, "to_stage": "client"}, content_type="application/json"
    )
    same = client.post(
        url,
        {"customer": customer_a.pk, "to_stage": "advocate", "reason": "x"},
        content_type="application/json",
    )
    foreign = client.post(
        url,
        {"customer": customer_b.pk, "to_stage": "client", "reason": "x"},
        content_type="application/json",
    )
    assert (no_reason.status_code, same.status_code, foreign.status_code) == (400, 400, 400)
    assert "reason" in no_reason.json()
    assert "to_stage" in same.json()
    assert "customer" in foreign.json()
    assert StageChange.objects.count() == 1
    assert [m["id"] for m in client.get(url).json()["results"]] == [ok.json()["id"]]


def test_clicking_a_rung_lists_own_customers_with_a_move_link(
    client, manager_a, customer_a, customer_b
):
    customer_b.stage = customer_a.stage = "client"
    customer_a.save()
    customer_b.save()
    client.force_login(manager_a)

    page = client.get(reverse("ladder"), {"stage": "client"}).content.decode()
    unknown = client.get(reverse("ladder"), {"stage": "king"})

    assert reverse("customer-ladder", args=[customer_a.pk]) in page
    assert customer_b.name not in page
    assert unknown.status_code == 200
    assert 'id="rung"' not in unknown.content.decode()


def test_nightly_step_refreshes_for_the_runs_date(customer_a):
    from relationships import nightly

    PurchaseFactory.create_batch(2, customer=customer_a)
    ctx = nightly.RunContext(run_date=TODAY, as_of=nightly.run_date_as_of(TODAY))
    nightly.STEPS["metrics"](ctx)

    assert nightly.STEPS["ladder"](ctx) == 1
    assert _open(customer_a).created_on == TODAY


def test_a_dismissed_higher_move_leaves_room_for_a_lower_rule(customer_a, manager_a):
    _referral(customer_a)
    InteractionFactory(customer=customer_a, author=manager_a, kind="feedback", sentiment=1)
    ladder_suggestions_refresh(run_date=TODAY)
    ladder_suggestion_decide(actor=manager_a, suggestion=_open(customer_a), accept=False)

    ladder_suggestions_refresh(run_date=TODAY)

    assert _open(customer_a).to_stage == "supporter"


def test_the_nightly_run_suggests_ladder_moves(manager_a):
    # given a customer on the "customer" rung who bought twice
    from django.core.management import call_command

    from relationships.models import LadderSuggestion
    from tests.factories import CustomerFactory, PurchaseFactory

    customer = CustomerFactory(account_manager=manager_a, stage="customer")
    PurchaseFactory(customer=customer, reference="A-1")
    PurchaseFactory(customer=customer, reference="A-2")

    # when the nightly run runs
    call_command("run_nightly")

    # then the manager has a suggestion to move the customer up to client
    suggestion = LadderSuggestion.objects.get(customer=customer, status="open")
    assert suggestion.to_stage == "client"


def test_the_nightly_run_suggests_what_the_rules_suggest_on_their_own(manager_a):
    """The nightly run counts from its own per-customer figures; the rules on their own
    count with SQL: same suggestions, including rows dated on the run's own day."""
    from relationships.nightly import nightly_run, run_date_as_of

    day = TODAY - dt.timedelta(days=1)
    morning = run_date_as_of(day) + dt.timedelta(hours=9)
    two_buys, one_buy_then_one_today, praised_today, defected = (
        CustomerFactory(stage="customer", account_manager=manager_a) for _ in range(4)
    )
    PurchaseFactory.create_batch(2, customer=two_buys, occurred_at=morning - dt.timedelta(days=20))
    PurchaseFactory(customer=one_buy_then_one_today, occurred_at=morning - dt.timedelta(days=3))
    PurchaseFactory(customer=one_buy_then_one_today, occurred_at=morning)  # on the run's date
    InteractionFactory(
        customer=praised_today, author=manager_a, kind="feedback", sentiment=2, occurred_at=morning
    )
    PurchaseFactory.create_batch(3, customer=defected, occurred_at=morning - dt.timedelta(days=9))
    defected.status = "defected"
    defected.save()

    nightly_run(run_date=day)
    by_night = sorted(LadderSuggestion.objects.values_list("customer_id", "to_stage", "reason"))
    LadderSuggestion.objects.all().delete()
    ladder_suggestions_refresh(run_date=day)
    on_their_own = sorted(LadderSuggestion.objects.values_list("customer_id", "to_stage", "reason"))

    assert by_night == on_their_own
    assert {c for c, _, _ in by_night} == {two_buys.pk, one_buy_then_one_today.pk, praised_today.pk}


def test_suggested_moves_are_paged_without_losing_or_repeating_any(client, manager_a):
    customers = CustomerFactory.create_batch(123, account_manager=manager_a, stage="customer")
    today = timezone.localdate()
    LadderSuggestion.objects.bulk_create(
        LadderSuggestion(
            customer=c,
            from_stage="customer",
            to_stage="client",
            rule="repeat_purchases",
            reason="2 purchases",
            created_on=today - dt.timedelta(days=i % 4),  # ties on each day
        )
        for i, c in enumerate(customers)
    )
    client.force_login(manager_a)
    seen, url, counts = [], reverse("ladder"), []
    while url:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url).content.decode()
        counts.append(len(captured))
        seen += [int(pk) for pk in re.findall(r'<tr id="suggestion-(\d+)"', page)]
        assert 'id="suggestion-total">123<' in page
        found = re.search(r'id="next-page" href="([^"]+)"', page)
        url = reverse("ladder") + found.group(1).replace("&amp;", "&") if found else ""
    expected = list(
        LadderSuggestion.objects.order_by("-created_on", "-id").values_list("pk", flat=True)
    )
    assert seen == expected
    assert len(counts) == 3
    assert counts[0] == counts[1] == counts[2]
    bad = client.get(reverse("ladder") + "?cursor=bm9wZQ").content.decode()
    assert "That page link is not valid any more" in bad
