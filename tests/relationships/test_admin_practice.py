import datetime as dt

from django.urls import reverse

from relationships.models import CorrectivePlan, DefectionReason


def test_admin_creates_a_plan_with_an_action(client, admin_user, manager_a):
    client.force_login(admin_user)
    assert client.get(reverse("admin:relationships_correctiveplan_add")).status_code == 200
    price = DefectionReason.objects.get(code="price")
    response = client.post(
        reverse("admin:relationships_correctiveplan_add"),
        {
            "title": "Win back price-sensitive SMB",
            "description": "",
            "causes": [price.pk],
            "owner": manager_a.pk,
            "recovery_team": [manager_a.pk],
            "status": "active",
            "started_on": dt.date(2026, 10, 1).isoformat(),
            "actions-TOTAL_FORMS": "1",
            "actions-INITIAL_FORMS": "0",
            "actions-MIN_NUM_FORMS": "0",
            "actions-MAX_NUM_FORMS": "1000",
            "actions-0-description": "Call every lost SMB customer",
            "actions-0-owner": manager_a.pk,
            "actions-0-due_on": "2026-12-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = CorrectivePlan.objects.get()
    assert plan.created_by == admin_user
    assert plan.actions.get().status == "open"


def test_admin_refuses_an_active_plan_without_a_start(client, admin_user, manager_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:relationships_correctiveplan_add"),
        {
            "title": "No start",
            "causes": [DefectionReason.objects.get(code="service").pk],
            "owner": manager_a.pk,
            "status": "active",
            "actions-TOTAL_FORMS": "0",
            "actions-INITIAL_FORMS": "0",
            "actions-MIN_NUM_FORMS": "0",
            "actions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert not CorrectivePlan.objects.exists()


def test_admin_lists_ladder_suggestions(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:relationships_laddersuggestion_changelist")).status_code == 200
