"""Corrective plans: admins write them, staff read them, action owners mark actions done,
and the plan page says whether defections for its causes went down (hand-computed)."""

import datetime as dt

import pytest
from django.urls import reverse

from customers.errors import NotAllowed, ValidationFailed
from relationships.models import CorrectiveAction, CorrectivePlan, DefectionReason
from relationships.selectors import effect_sentence, plan_effect
from relationships.services import action_add, action_mark_done, plan_save
from tests.factories import (
    CorrectiveActionFactory,
    CorrectivePlanFactory,
    CustomerFactory,
    DefectionFactory,
)

TODAY = dt.date(2026, 8, 10)


def _reason(code):
    return DefectionReason.objects.get(code=code)


def _plan(started_on, owner, status="active"):
    plan = CorrectivePlanFactory(owner=owner, status=status, started_on=started_on)
    plan.causes.set([_reason("price"), _reason("service")])
    return plan


def _ten_year_old_customers(manager, n=10):
    return [
        CustomerFactory(account_manager=manager, acquired_on=dt.date(2024, 1, 1)) for _ in range(n)
    ]


def _defect(customer, code, day):
    DefectionFactory(customer=customer, reason=_reason(code), defected_on=day)


def _history(manager_a):
    """10 customers since 2024; one more acquired mid-February 2026. Before the plan
    (Jul-Dec 2025) 2 leave for price in Sep, 1 moves away in Oct (not a cause the plan
    addresses, but gone from the base), 1 leaves for service in Nov; after (Jan-Jun 2026)
    1 leaves for price in March."""
    c = _ten_year_old_customers(manager_a)
    CustomerFactory(account_manager=manager_a, acquired_on=dt.date(2026, 2, 15))
    _defect(c[0], "price", dt.date(2025, 9, 3))
    _defect(c[1], "price", dt.date(2025, 9, 20))
    _defect(c[2], "moved", dt.date(2025, 10, 5))
    _defect(c[3], "service", dt.date(2025, 11, 11))
    _defect(c[4], "price", dt.date(2026, 3, 9))


def test_before_and_after_rates_are_computed_by_hand(admin_user, manager_a):
    _history(manager_a)
    plan = _plan(dt.date(2026, 1, 1), admin_user)

    effect = plan_effect(actor=admin_user, plan=plan, today=TODAY)

    # Active per month before: Jul 10, Aug 10, Sep 10, Oct 8, Nov 7, Dec 6 = 51; 3 left for price/service.
    # After: Jan 6, Feb 7 (the new one), Mar 7, Apr 6, May 6, Jun 6 = 38; 1 left.
    assert [r["active"] for r in effect["months"]] == [10, 10, 10, 8, 7, 6, 6, 7, 7, 6, 6, 6]
    assert [r["defections"] for r in effect["months"]] == [0, 0, 2, 0, 1, 0, 0, 0, 1, 0, 0, 0]
    assert effect["before"] == pytest.approx(3 / 51)
    assert effect["after"] == pytest.approx(1 / 38)
    assert (
        effect_sentence(effect)
        == "Defections for price and service: 5.9% a month before, 2.6% after."
    )


def test_rates_are_scoped_to_the_managers_book(admin_user, manager_a, manager_b):
    _history(manager_a)
    other = _ten_year_old_customers(manager_b, n=1)[0]
    _defect(other, "price", dt.date(2026, 2, 2))
    plan = _plan(dt.date(2026, 1, 1), admin_user)

    mine = plan_effect(actor=manager_a, plan=plan, today=TODAY)
    everyone = plan_effect(actor=admin_user, plan=plan, today=TODAY)

    assert mine["after"] == pytest.approx(1 / 38)
    assert everyone["after"] == pytest.approx(2 / 40)  # B's customer is active in Jan and Feb
    assert everyone["before"] == pytest.approx(3 / 57)


def test_a_mid_month_start_compares_whole_months_around_it(admin_user):
    plan = _plan(dt.date(2026, 1, 15), admin_user)

    effect = plan_effect(actor=admin_user, plan=plan, today=TODAY)

    assert effect["pivot"] == dt.date(2026, 2, 1)
    assert effect["months"][0]["month"] == dt.date(2025, 7, 1)
    assert [r["month"] for r in effect["months"] if not r["after"]][-1] == dt.date(2025, 12, 1)
    assert dt.date(2026, 1, 1) not in [r["month"] for r in effect["months"]]  # neither side
    assert [r["month"] for r in effect["months"] if r["after"]][-1] == dt.date(2026, 7, 1)


def test_months_not_over_yet_are_left_out_and_drafts_have_no_effect(admin_user, manager_a):
    _history(manager_a)
    plan = _plan(dt.date(2026, 1, 1), admin_user)

    effect = plan_effect(actor=admin_user, plan=plan, today=dt.date(2026, 3, 20))
    assert effect["after_months"] == 2  # Jan and Feb are over, March is not

    draft = CorrectivePlanFactory(owner=admin_user)
    assert plan_effect(actor=admin_user, plan=draft, today=TODAY) is None
    assert "not started yet" in effect_sentence(None)


# --- Services -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, "title"),
        ({"causes": []}, "causes"),
        ({"status": "active", "started_on": None}, "started_on"),
        ({"status": "paused"}, "status"),
    ],
)
def test_bad_plan_is_refused_and_nothing_written(admin_user, changes, field):
    kwargs = {"title": "Fix pricing", "owner": admin_user, "causes": [_reason("price")], **changes}
    with pytest.raises(ValidationFailed) as exc:
        plan_save(actor=admin_user, **kwargs)
    assert exc.value.field == field
    assert not CorrectivePlan.objects.exists()


def test_only_admins_write_plans_and_add_actions(admin_user, manager_a):
    with pytest.raises(NotAllowed):
        plan_save(actor=manager_a, title="Mine", owner=manager_a, causes=[_reason("price")])
    plan = _plan(dt.date(2026, 1, 1), admin_user)
    with pytest.raises(NotAllowed):
        action_add(actor=manager_a, plan=plan, description="Call them", owner=manager_a)
    assert not CorrectiveAction.objects.exists()


def test_plan_owner_must_be_staff(admin_user, customer_user):
    with pytest.raises(ValidationFailed) as exc:
        plan_save(actor=admin_user, title="X", owner=customer_user, causes=[_reason("price")])
    assert exc.value.field == "owner"


def test_action_owner_marks_done_others_cannot(admin_user, manager_a, manager_b):
    action = CorrectiveActionFactory(owner=manager_a)

    with pytest.raises(NotAllowed):
        action_mark_done(actor=manager_b, action=action)
    action.refresh_from_db()
    assert action.status == "open"

    done = action_mark_done(actor=manager_a, action=action)
    again = action_mark_done(actor=manager_a, action=action)
    assert done.status == "done"
    assert again.done_at == done.done_at


# --- Pages --------------------------------------------------------------------------------


def test_admin_creates_a_plan_and_adds_an_action_inline(client, admin_user, manager_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("plan-create"),
        {
            "title": "Win back on price",
            "causes": [_reason("price").pk, _reason("service").pk],
            "owner": admin_user.pk,
            "recovery_team": [manager_a.pk],
            "status": "active",
            "started_on": "2026-01-01",
        },
    )
    plan = CorrectivePlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("plan-detail", args=[plan.pk])

    client.post(
        reverse("plan-action-add", args=[plan.pk]),
        {"description": "Review the price list", "owner": manager_a.pk},
    )
    page = client.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert "Review the price list" in page
    assert "Defections for price and service" in page
    assert "<svg" in page


def test_plan_form_errors_are_shown_and_nothing_saved(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("plan-create"),
        {
            "title": "Half a plan",
            "causes": [_reason("price").pk],
            "owner": admin_user.pk,
            "status": "active",
        },
    )
    assert response.status_code == 200
    assert "An active or done plan needs the day it started." in response.content.decode()
    assert not CorrectivePlan.objects.exists()


def test_bad_action_is_refused_on_the_page(client, admin_user):
    plan = _plan(dt.date(2026, 1, 1), admin_user)
    client.force_login(admin_user)
    response = client.post(
        reverse("plan-action-add", args=[plan.pk]), {"description": "", "owner": admin_user.pk}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not CorrectiveAction.objects.exists()


def test_manager_reads_plans_and_marks_own_action_done(client, admin_user, manager_a, manager_b):
    plan = _plan(dt.date(2026, 1, 1), admin_user)
    mine = CorrectiveActionFactory(plan=plan, owner=manager_a, description="Call the lost accounts")
    theirs = CorrectiveActionFactory(plan=plan, owner=manager_b, description="Rewrite the FAQ")
    client.force_login(manager_a)

    assert plan.title in client.get(reverse("plan-list")).content.decode()
    page = client.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert reverse("plan-action-done", args=[mine.pk]) in page
    assert reverse("plan-action-done", args=[theirs.pk]) not in page
    assert "Add an action" not in page
    assert client.get(reverse("plan-create")).status_code == 403

    client.post(reverse("plan-action-done", args=[mine.pk]))
    refused = client.post(reverse("plan-action-done", args=[theirs.pk]), follow=True)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("done", "open")
    assert "Only the action&#x27;s owner or an admin marks it done." in refused.content.decode()


# --- API ----------------------------------------------------------------------------------


def test_api_plans_admin_writes_staff_reads(client, admin_user, manager_a):
    client.force_login(manager_a)
    denied = client.post("/api/v1/corrective-plans/", {}, content_type="application/json")
    assert denied.status_code == 403

    client.force_login(admin_user)
    bad = client.post(
        "/api/v1/corrective-plans/",
        {"title": "Price", "causes": ["price"], "owner": admin_user.pk, "status": "active"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "started_on" in bad.json()
    ok = client.post(
        "/api/v1/corrective-plans/",
        {
            "title": "Price",
            "causes": ["price", "service"],
            "owner": admin_user.pk,
            "status": "active",
            "started_on": "2026-01-01",
        },
        content_type="application/json",
    )
    assert ok.status_code == 201
    assert sorted(ok.json()["causes"]) == ["price", "service"]
    plan_id = ok.json()["id"]

    action = client.post(
        "/api/v1/corrective-actions/",
        {"plan": plan_id, "description": "Match competitor prices", "owner": manager_a.pk},
        content_type="application/json",
    )
    assert action.status_code == 201

    client.force_login(manager_a)
    assert (
        client.get(f"/api/v1/corrective-plans/{plan_id}/").json()["actions"][0]["description"]
        == "Match competitor prices"
    )
    assert "sentence" in client.get(f"/api/v1/corrective-plans/{plan_id}/effect/").json()
    done = client.post(
        f"/api/v1/corrective-actions/{action.json()['id']}/done/", content_type="application/json"
    )
    assert done.json()["status"] == "done"
