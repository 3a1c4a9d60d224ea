import datetime as dt

from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import LedgerEntry, Program, Tier
from loyalty.selectors import customer_loyalty_panel
from loyalty.services import points_adjust
from tests.factories import PASSWORD, MembershipFactory, ProgramFactory, RewardFactory, TierFactory


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_panel_queries_stay_constant(manager_a, customer_a):
    for i in range(3):
        program = ProgramFactory(name=f"P{i}")
        TierFactory(program=program, name="Base", threshold=0)
        TierFactory(program=program, name="Gold", threshold=1000)
        m = MembershipFactory(program=program, customer=customer_a)
        points_adjust(membership=m, points=10 + i, reason="Seed", actor=manager_a)
    with CaptureQueriesContext(connection) as ctx:
        panel = customer_loyalty_panel(actor=manager_a, customer=customer_a)
    # memberships, tiers, recent movements, offers (usable and used in one): the page already
    # checked who may see the customer
    assert len(ctx.captured_queries) <= 4
    assert [row["balance"] for row in panel["memberships"]] == [10, 11, 12]
    assert panel["memberships"][0]["next_tier"].name == "Base"
    assert len(panel["recent"]) == 3


def test_panel_hidden_outside_the_book(manager_b, customer_a, membership_a):
    assert customer_loyalty_panel(actor=manager_b, customer=customer_a) is None


def test_panel_template_shows_balance_and_form(rf, manager_a, funded):
    panel = customer_loyalty_panel(actor=manager_a, customer=funded.customer)
    request = rf.get("/")
    request.user = manager_a
    html = render_to_string(
        "loyalty/_customer_panel.html", {"panel": {"data": panel}}, request=request
    )
    assert "1,000" in html
    assert "stars" in html
    assert "Welcome gift" in html
    assert f"/loyalty/memberships/{funded.pk}/adjust/" in html


def test_adjust_page_adds_points_and_returns_to_the_customer(client, manager_a, funded):
    login(client, manager_a)
    url = f"/loyalty/memberships/{funded.pk}/adjust/"
    r = client.post(
        url, {"points": "-200", "reason": "Returned goods", "idempotency_key": "form-1"}
    )
    client.post(url, {"points": "-200", "reason": "Returned goods", "idempotency_key": "form-1"})
    assert r.status_code == 302
    assert r.url.endswith(f"/customers/{funded.customer_id}/")
    funded.refresh_from_db()
    assert funded.balance == 800
    entry = LedgerEntry.objects.get(kind="adjust", points=-200)
    assert entry.actor == manager_a


def test_adjust_page_bad_input_is_a_message_not_an_error(client, manager_a, funded):
    login(client, manager_a)
    url = f"/loyalty/memberships/{funded.pk}/adjust/"
    r = client.post(url, {"points": "abc", "reason": ""}, follow=False)
    assert r.status_code == 302
    r = client.post(url, {"points": "-5000", "reason": "Too much"})
    assert r.status_code == 302
    msgs = [str(m) for m in r.wsgi_request._messages]
    assert any("Not enough stars" in m for m in msgs)
    funded.refresh_from_db()
    assert funded.balance == 1000


def test_adjust_page_outside_book_is_404(client, manager_b, funded, customer_user):
    login(client, manager_b)
    assert (
        client.post(
            f"/loyalty/memberships/{funded.pk}/adjust/", {"points": "5", "reason": "x"}
        ).status_code
        == 404
    )
    client.logout()
    login(client, customer_user)
    assert (
        client.post(
            f"/loyalty/memberships/{funded.pk}/adjust/", {"points": "5", "reason": "x"}
        ).status_code
        == 403
    )


def test_program_page_shows_charts_for_admins(client, admin_user, manager_a, funded, program):
    TierFactory(program=program, name="Base", threshold=0)
    RewardFactory(program=program, name="Mug", cost=100)
    login(client, admin_user)
    r = client.get(f"/loyalty/programs/{program.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count("<svg") == 3
    assert "1,000" in html  # liability
    assert timezone.localdate().strftime("%b %y") in html
    assert client.get("/loyalty/programs/").status_code == 200
    assert client.get("/loyalty/programs/999999/").status_code == 404
    client.logout()
    login(client, manager_a)
    assert client.get(f"/loyalty/programs/{program.pk}/").status_code == 403


def test_admin_refuses_overlapping_tiers(client, admin_user):
    login(client, admin_user)
    data = {
        "name": "Club X",
        "points_name": "points",
        "currency": "EUR",
        "points_per_unit": "1",
        "starts_on": "2026-01-01",
        "pending_days": "0",
        "expiry_policy": "never",
        "tier_basis": "points",
        "qualification_days": "365",
        "downgrade_policy": "never",
        "grace_days": "0",
        "join_on_first_purchase": "on",
        "tiers-TOTAL_FORMS": "2",
        "tiers-INITIAL_FORMS": "0",
        "tiers-0-name": "Silver",
        "tiers-0-threshold": "100",
        "tiers-0-multiplier": "1",
        "tiers-1-name": "Gold",
        "tiers-1-threshold": "100",
        "tiers-1-multiplier": "2",
        "rules-TOTAL_FORMS": "0",
        "rules-INITIAL_FORMS": "0",
    }
    r = client.post("/admin/loyalty/program/add/", data)
    assert r.status_code == 200
    assert "overlap" in r.content.decode()
    assert not Program.objects.filter(name="Club X").exists()
    data["tiers-1-threshold"] = "500"
    r = client.post("/admin/loyalty/program/add/", data)
    assert r.status_code == 302
    assert list(Tier.objects.filter(program__name="Club X").values_list("name", flat=True)) == [
        "Silver",
        "Gold",
    ]


def test_admin_refuses_reward_nobody_can_afford(client, admin_user):
    program = Program.objects.create(name="Tight", expiry_policy="months", expiry_months=1)
    program.rules.create(name="Base", kind="per_money", priority=1, cap_per_month=50)
    login(client, admin_user)
    r = client.post(
        "/admin/loyalty/reward/add/",
        {
            "program": program.pk,
            "name": "Boat",
            "cost": "999",
            "is_active": "on",
            "codes-TOTAL_FORMS": "0",
            "codes-INITIAL_FORMS": "0",
        },
    )
    assert r.status_code == 200
    assert "Nobody can afford" in r.content.decode()


def test_admin_lists_render(client, admin_user, funded):
    login(client, admin_user)
    for name in [
        "program",
        "membership",
        "ledgerentry",
        "reward",
        "redemption",
        "offer",
        "offerredemption",
        "loyaltyrun",
        "tierchange",
        "earningrule",
        "tier",
    ]:
        assert client.get(f"/admin/loyalty/{name}/").status_code == 200, name
    assert client.get(f"/admin/loyalty/membership/{funded.pk}/change/").status_code == 200
    assert client.get("/admin/loyalty/membership/add/").status_code == 200


def test_admin_adds_member_through_the_service(client, admin_user, customer_a, program):
    login(client, admin_user)
    r = client.post(
        "/admin/loyalty/membership/add/", {"program": program.pk, "customer": customer_a.pk}
    )
    assert r.status_code == 302
    r = client.post(
        "/admin/loyalty/membership/add/", {"program": program.pk, "customer": customer_a.pk}
    )
    assert r.status_code == 200
    assert "already a member" in r.content.decode()
    program.ends_on = timezone.localdate() - dt.timedelta(days=1)
    program.starts_on = program.ends_on - dt.timedelta(days=10)
    program.save()


def test_panel_movements_name_their_program_without_more_queries(
    rf, manager_a, customer_a, django_assert_num_queries
):
    for name in ("Stars", "Miles"):
        program = ProgramFactory(name=name)
        m = MembershipFactory(program=program, customer=customer_a)
        points_adjust(membership=m, points=5, reason=f"Seed {name}", actor=manager_a)
    request = rf.get("/")
    request.user = manager_a
    with django_assert_num_queries(4):  # memberships, tiers, recent movements, offers
        panel = customer_loyalty_panel(actor=manager_a, customer=customer_a)
        html = render_to_string(
            "loyalty/_customer_panel.html", {"panel": {"data": panel}}, request=request
        )
    movements = html[html.index('class="movements"') :]
    assert "· Stars" in movements
    assert "· Miles" in movements
    assert "Seed Stars" in movements
