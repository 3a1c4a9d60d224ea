"""The program builder: admins build and change programs in the app's pages, through the
same services as the API; contradictions show on their field before saving; changes are
recorded and can wait for a date; managers read only."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.models import ChangeStatus, ConfigChange, EarningRule, Program, Tier
from loyalty.services import nightly_step_run
from tests.factories import EarningRuleFactory, ProgramFactory, RewardFactory, TierFactory

TODAY = timezone.localdate()


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def club(db):
    program = ProgramFactory(name="Club", points_name="stars")
    TierFactory(program=program, name="Member", threshold=Decimal(0))
    TierFactory(program=program, name="Gold", threshold=Decimal(500), multiplier=Decimal(2))
    return program


def program_form(**overrides):
    data = {
        "name": "Friends",
        "points_name": "points",
        "currency": "EUR",
        "points_per_unit": "1",
        "starts_on": TODAY.isoformat(),
        "pending_days": "0",
        "expiry_policy": "never",
        "tier_basis": "points",
        "qualification_days": "365",
        "downgrade_policy": "never",
        "grace_days": "0",
        "join_on_first_purchase": "on",
    }
    return {**data, **overrides}


def test_admin_creates_a_program_and_the_change_is_recorded(admin, admin_user):
    response = admin.post(reverse("loyalty-program-create"), program_form())

    program = Program.objects.get(name="Friends")
    assert response.status_code == 302
    assert response.url == reverse("loyalty-program", args=[program.pk])
    change = ConfigChange.objects.get(kind="program", object_id=program.pk)
    assert change.created
    assert change.actor == admin_user
    assert change.after["points_per_unit"] == "1"
    page = admin.get(response.url).content.decode()
    assert "Program Friends" in page
    assert "created" in page


def test_a_contradiction_shows_on_its_field_and_nothing_is_saved(admin, club):
    url = reverse("loyalty-part-create", args=[club.pk, "tier"])
    clash = {"name": "Silver", "threshold": "500", "multiplier": "1.5"}

    # while filling in (htmx check): the error on the field, 200 so htmx swaps it in
    checked = admin.post(url, {**clash, "check": "1"}, HTTP_HX_REQUEST="true")
    assert checked.status_code == 200
    html = checked.content.decode()
    assert "<html" not in html  # only the error lists, swapped in by id
    threshold = re.search(r'id="errors-threshold"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "overlap: both start at 500" in threshold
    assert re.search(r'id="errors-name"[^>]*hx-swap-oob="true"></div>', html)  # name is fine

    # on save: refused with the same message, and nothing saved
    saved = admin.post(url, clash)
    assert saved.status_code == 400
    assert "overlap: both start at 500" in saved.content.decode()
    assert not Tier.objects.filter(name="Silver").exists()
    assert not ConfigChange.objects.exists()


def test_a_tier_that_earns_less_than_a_lower_one_is_refused_on_the_multiplier(admin, club):
    url = reverse("loyalty-part-create", args=[club.pk, "tier"])
    response = admin.post(url, {"name": "Platinum", "threshold": "900", "multiplier": "1.5"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "earns less" in form.errors["multiplier"][0]


def test_a_reward_nobody_can_afford_is_refused_on_its_cost(admin, club):
    club.expiry_policy = "months"
    club.expiry_months = 1
    club.save()
    EarningRuleFactory(program=club, kind="per_money", cap_per_month=100, priority=1)
    url = reverse("loyalty-part-create", args=[club.pk, "reward"])
    response = admin.post(
        url, {"name": "Trip", "cost": "5000", "per_customer_limit": "", "is_active": "on"}
    )
    assert response.status_code == 400
    assert "Nobody can afford 5,000 stars" in response.context["form"].errors["cost"][0]


def test_a_rule_change_today_applies_now_with_before_and_after(admin, admin_user, club):
    rule = EarningRuleFactory(program=club, name="Base", points_per_unit=Decimal(1), priority=1)
    url = reverse("loyalty-part-edit", args=[club.pk, "rule", rule.pk])
    response = admin.post(
        url,
        {
            "name": "Base",
            "kind": "per_money",
            "priority": "1",
            "is_active": "on",
            "points_per_unit": "2",
            "effective_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.points_per_unit == Decimal(2)
    change = ConfigChange.objects.get(kind="rule", object_id=rule.pk)
    assert change.status == ChangeStatus.APPLIED
    assert ("points_per_unit", "1", "2") in change.fields_changed


def test_a_rule_change_from_a_later_date_waits_for_that_night(admin, club):
    rule = EarningRuleFactory(program=club, name="Base", points_per_unit=Decimal(1), priority=1)
    later = TODAY + dt.timedelta(days=7)
    response = admin.post(
        reverse("loyalty-part-edit", args=[club.pk, "rule", rule.pk]),
        {
            "name": "Base",
            "kind": "per_money",
            "priority": "1",
            "is_active": "on",
            "points_per_unit": "3",
            "effective_on": later.isoformat(),
        },
        follow=True,
    )
    assert "is scheduled for" in response.content.decode()
    rule.refresh_from_db()
    assert rule.points_per_unit == Decimal(1)  # not yet
    change = ConfigChange.objects.get(kind="rule", object_id=rule.pk)
    assert change.status == ChangeStatus.SCHEDULED
    assert change.after == {"points_per_unit": "3"}

    # the night before: nothing; that night's run applies it
    nightly_step_run(step="config", run_date=later - dt.timedelta(days=1))
    rule.refresh_from_db()
    assert rule.points_per_unit == Decimal(1)
    nightly_step_run(step="config", run_date=later)
    rule.refresh_from_db()
    change.refresh_from_db()
    assert rule.points_per_unit == Decimal(3)
    assert change.status == ChangeStatus.APPLIED


def test_a_scheduled_change_is_checked_when_made(admin, club):
    gold = Tier.objects.get(name="Gold")
    response = admin.post(
        reverse("loyalty-part-edit", args=[club.pk, "tier", gold.pk]),
        {
            "name": "Gold",
            "threshold": "0",
            "multiplier": "2",
            "effective_on": (TODAY + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "overlap" in response.content.decode()
    assert not ConfigChange.objects.exists()


def test_a_scheduled_change_that_no_longer_fits_fails_with_its_reason(admin_user, club):
    from loyalty.services import config_schedule

    gold = Tier.objects.get(name="Gold")
    later = TODAY + dt.timedelta(days=5)
    change = config_schedule(
        actor=admin_user, obj=gold, changes={"threshold": Decimal(800)}, m2m=None,
        effective_on=later,
    )  # fmt: skip
    TierFactory(program=club, name="Platinum", threshold=Decimal(800), multiplier=Decimal(3))

    nightly_step_run(step="config", run_date=later)

    change.refresh_from_db()
    assert change.status == ChangeStatus.FAILED
    assert "already exists" in change.error
    gold.refresh_from_db()
    assert gold.threshold == Decimal(500)


def test_admin_cancels_a_scheduled_change(admin, admin_user, club):
    from loyalty.services import config_schedule

    gold = Tier.objects.get(name="Gold")
    change = config_schedule(
        actor=admin_user, obj=gold, changes={"multiplier": Decimal(3)}, m2m=None,
        effective_on=TODAY + dt.timedelta(days=2),
    )  # fmt: skip
    response = admin.post(reverse("loyalty-change-cancel", args=[club.pk, change.pk]))
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == ChangeStatus.CANCELLED
    nightly_step_run(step="config", run_date=TODAY + dt.timedelta(days=2))
    gold.refresh_from_db()
    assert gold.multiplier == Decimal(2)


def test_a_change_cannot_take_effect_in_the_past(admin, club):
    gold = Tier.objects.get(name="Gold")
    response = admin.post(
        reverse("loyalty-part-edit", args=[club.pk, "tier", gold.pk]),
        {
            "name": "Gold",
            "threshold": "600",
            "multiplier": "2",
            "effective_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "cannot take effect in the past" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("loyalty-program-create", []),
        ("loyalty-program-edit", ["club"]),
        ("loyalty-part-create", ["club", "rule"]),
        ("loyalty-program-preview", ["club"]),
    ],
)
def test_managers_cannot_use_the_builder(client, manager_a, club, name, args):
    client.force_login(manager_a)
    url = reverse(name, args=[club.pk if a == "club" else a for a in args])
    assert client.get(url).status_code == 403
    assert client.post(url, program_form()).status_code == 403
    assert not ConfigChange.objects.exists()


def test_api_writes_are_recorded_like_the_pages(client, admin_user, club):
    client.force_login(admin_user)
    gold = Tier.objects.get(name="Gold")
    response = client.patch(
        f"/api/v1/loyalty/tiers/{gold.pk}/",
        {"multiplier": "2.50"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    change = ConfigChange.objects.get(kind="tier", object_id=gold.pk)
    assert change.actor == admin_user
    assert ("multiplier", "2", "2.5") in change.fields_changed


def test_unknown_part_is_a_404(admin, club):
    assert admin.get(f"/loyalty/programs/{club.pk}/widgets/new/").status_code == 404


def test_an_offer_is_built_from_the_program_page(admin, club):
    response = admin.post(
        reverse("loyalty-part-create", args=[club.pk, "offer"]),
        {
            "name": "Tea for coffee buyers",
            "kind": "cross_sell",
            "coupon_code": "TEA10",
            "bought_category": "Coffee",
            "not_bought_category": "coffee",
            "per_customer_limit": "1",
            "is_active": "on",
        },
    )
    assert response.status_code == 400
    assert "Nobody can have bought a category and not bought it." in response.content.decode()
    response = admin.post(
        reverse("loyalty-part-create", args=[club.pk, "offer"]),
        {
            "name": "Tea for coffee buyers",
            "kind": "cross_sell",
            "coupon_code": "TEA10",
            "bought_category": "Coffee",
            "not_bought_category": "Tea",
            "per_customer_limit": "1",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    page = admin.get(reverse("loyalty-program", args=[club.pk])).content.decode()
    assert "Tea for coffee buyers" in page
    assert "TEA10" in page


def test_the_rule_form_offers_only_this_programs_tiers(admin, club):
    other = ProgramFactory(name="Other")
    TierFactory(program=other, name="Elsewhere")
    page = admin.get(reverse("loyalty-part-create", args=[club.pk, "rule"])).content.decode()
    assert "Gold" in page
    assert "Elsewhere" not in page


def test_reward_tiers_of_another_program_are_refused(admin, club):
    other = TierFactory(program=ProgramFactory(name="Other"), name="Elsewhere")
    response = admin.post(
        reverse("loyalty-part-create", args=[club.pk, "reward"]),
        {"name": "Mug", "cost": "100", "per_customer_limit": "", "tiers": [other.pk]},
    )
    assert response.status_code == 400
    assert not RewardFactory._meta.model.objects.filter(name="Mug").exists()


def test_bad_rule_kinds_show_on_their_fields(admin, club):
    response = admin.post(
        reverse("loyalty-part-create", args=[club.pk, "rule"]),
        {"name": "Double", "kind": "multiplier", "priority": "5", "is_active": "on"},
    )
    assert response.status_code == 400
    assert "multiplier" in response.context["form"].errors
    assert not EarningRule.objects.filter(name="Double").exists()


def test_api_schedules_lists_and_cancels_a_change(client, admin_user, manager_a, club):
    gold = Tier.objects.get(name="Gold")
    later = TODAY + dt.timedelta(days=10)
    client.force_login(admin_user)
    created = client.post(
        "/api/v1/loyalty/changes/",
        {
            "kind": "tier",
            "object_id": gold.pk,
            "changes": {"multiplier": "3"},
            "effective_on": later.isoformat(),
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "scheduled"
    assert body["after"] == {"multiplier": "3"}
    gold.refresh_from_db()
    assert gold.multiplier == Decimal(2)

    # a contradiction is refused when made, naming what is wrong
    clash = client.post(
        "/api/v1/loyalty/changes/",
        {
            "kind": "tier",
            "object_id": gold.pk,
            "changes": {"threshold": "0"},
            "effective_on": later.isoformat(),
        },
        content_type="application/json",
    )
    assert clash.status_code == 400
    bad_value = client.post(
        "/api/v1/loyalty/changes/",
        {
            "kind": "tier",
            "object_id": gold.pk,
            "changes": {"multiplier": "lots"},
            "effective_on": later.isoformat(),
        },
        content_type="application/json",
    )
    assert bad_value.status_code == 400
    assert "multiplier" in bad_value.json()["changes"]

    # managers read the changes but neither schedule nor cancel
    client.force_login(manager_a)
    listed = client.get("/api/v1/loyalty/changes/", {"program": club.pk})
    assert listed.status_code == 200
    assert (
        client.post(
            "/api/v1/loyalty/changes/",
            {
                "kind": "tier",
                "object_id": gold.pk,
                "changes": {},
                "effective_on": later.isoformat(),
            },
            content_type="application/json",
        ).status_code
        == 403
    )
    cancel_url = f"/api/v1/loyalty/changes/{body['id']}/cancel/"
    assert client.post(cancel_url).status_code == 403

    client.force_login(admin_user)
    assert client.post(cancel_url).json()["status"] == "cancelled"
    assert client.post(cancel_url).status_code == 409
