"""The audit log (django-auditlog): who changed what on customers, assignments, loyalty
configuration and points adjustments, read by admins on the customer page and in the admin."""

import re

from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from customers.models import Customer
from customers.services import customer_reassign, customer_update, purchase_record
from loyalty.models import Program
from loyalty.services import points_adjust
from tests.factories import MembershipFactory, ProgramFactory


def entries_for(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def changes_fragment(client, customer) -> str:
    url = reverse("customer-changes", args=[customer.pk])
    return client.get(url, headers={"HX-Request": "true"}).content.decode()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_a_change_on_the_page_is_logged_with_its_author_and_shown_to_admins(
    client, admin_user, manager_a, customer_a
):
    client.force_login(manager_a)
    response = client.post(
        reverse("customer-edit", args=[customer_a.pk]),
        {"name": "Acme Renamed", "kind": "person", "stage": "client", "status": "active"},
    )
    assert response.status_code == 302

    entry = entries_for(customer_a)[-1]
    assert entry.actor == manager_a
    assert entry.changes["name"] == ["Acme Alpha", "Acme Renamed"]
    assert entry.changes["stage"] == ["customer", "client"]
    assert "updated_at" not in entry.changes

    client.force_login(admin_user)
    page = text(changes_fragment(client, customer_a))
    assert "Customer changed by Alice Anders" in page
    assert "Name: Acme Alpha → Acme Renamed" in page
    assert "Stage: Customer → Client" in page


def test_a_change_through_the_api_with_a_token_names_the_tokens_user(client, manager_a, customer_a):
    token = Token.objects.create(user=manager_a)
    response = client.patch(
        f"/api/v1/customers/{customer_a.pk}/",
        {"phone": "+33 1 23 45 67 89"},
        content_type="application/json",
        headers={"Authorization": f"Token {token.key}"},
    )
    assert response.status_code == 200, response.content

    entry = entries_for(customer_a)[-1]
    assert entry.actor == manager_a  # DRF authenticates the token inside the view
    assert entry.changes["phone"] == [customer_a.phone, "+33 1 23 45 67 89"]


def test_a_change_in_the_django_admin_is_logged(client, admin_user, customer_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:customers_customer_change", args=[customer_a.pk]),
        {
            "kind": "person",
            "name": customer_a.name,
            "stage": "customer",
            "status": "inactive",
            "account_manager": customer_a.account_manager_id,
            **{
                f"{p}-{k}": "0"
                for p in ("assignments", "stage_changes", "purchases")
                for k in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = entries_for(customer_a)[-1]
    assert entry.actor == admin_user
    assert entry.changes["status"] == ["active", "inactive"]
    # auditlog's own admin lists it, for admins.
    listing = client.get(reverse("admin:auditlog_logentry_changelist")).content.decode()
    assert "Acme Alpha" in listing


def test_a_reassignment_and_a_points_adjustment_are_on_the_customers_changes(
    client, admin_user, manager_a, manager_b, customer_a
):
    client.force_login(admin_user)
    response = client.post(
        reverse("customer-reassign", args=[customer_a.pk]),
        {"account_manager": manager_b.pk, "reason": "Alice moves to another region"},
    )
    assert response.status_code == 302
    membership = MembershipFactory(program=ProgramFactory(name="Club"), customer=customer_a)
    client.force_login(manager_b)
    response = client.post(
        f"/api/v1/loyalty/memberships/{membership.pk}/adjust/",
        {"points": 25, "reason": "Apology"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content

    client.force_login(admin_user)
    page = text(changes_fragment(client, customer_a))
    assert "Account manager: Alice Anders → Bob Berg" in page
    assert "Account-manager assignment created by Ada Admin" in page
    assert "Reason: Alice moves to another region" in page
    assert "Points adjustment created by Bob Berg" in page
    assert "Points: 25" in page
    assert "Reason: Apology" in page
    # The full page shows the same, a page at a time.
    full = text(client.get(reverse("customer-changes", args=[customer_a.pk])).content.decode())
    assert "Points adjustment created by Bob Berg" in full


def test_writes_outside_a_request_are_by_the_system(client, admin_user, manager_a, customer_a):
    # A Celery task or the nightly run: no request, so no actor.
    customer_update(actor=manager_a, customer=customer_a, company="Acme SA")
    entry = entries_for(customer_a)[-1]
    assert entry.actor is None
    client.force_login(admin_user)
    assert "Customer changed by system" in text(changes_fragment(client, customer_a))


def test_earned_points_are_not_logged_but_configuration_is(customer_a):
    membership = MembershipFactory(program=ProgramFactory(name="Club"), customer=customer_a)
    purchase_record(
        customer=customer_a, reference="R1", amount="120.00", occurred_at=timezone.now()
    )
    assert membership.entries.filter(kind="earn").exists()
    assert not LogEntry.objects.filter(content_type__model="ledgerentry").exists()

    program = Program.objects.get(pk=membership.program_id)
    program.name = "Club Gold"
    program.save()
    assert entries_for(program)[-1].changes["name"] == ["Club", "Club Gold"]


def test_managers_do_not_see_or_reach_the_log(client, manager_a, customer_a):
    points_adjust(
        membership=MembershipFactory(customer=customer_a), points=5, reason="x", actor=manager_a
    )
    client.force_login(manager_a)
    page = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    assert 'id="changes"' not in page
    assert changes_fragment(client, customer_a) != ""
    url = reverse("customer-changes", args=[customer_a.pk])
    assert client.get(url).status_code == 403
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 302


def test_the_customer_page_loads_the_changes_for_admins_only_after_it_is_shown(
    client, admin_user, customer_a
):
    client.force_login(admin_user)
    page = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    url = reverse("customer-changes", args=[customer_a.pk])
    assert f'hx-get="{url}" hx-trigger="load"' in page
    Customer.objects.filter(pk=customer_a.pk).update(name="Bulk")  # not a logged write
    fragment = text(changes_fragment(client, customer_a))
    assert "Customer created by system" in fragment  # the factory, outside any request
    assert "Bulk" not in fragment


def test_the_changes_cost_the_same_queries_however_many_there_are(
    client, admin_user, manager_a, manager_b, customer_a
):
    client.force_login(admin_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert "Customer" in changes_fragment(client, customer_a)
            assert client.get(reverse("customer-changes", args=[customer_a.pk])).status_code == 200
        return len(captured)

    customer_update(actor=admin_user, customer=customer_a, company="One")
    queries()  # content types are cached after the first look-up
    few = queries()
    for n, manager in enumerate([manager_b, manager_a, manager_b, manager_a]):
        customer_update(actor=admin_user, customer=customer_a, company=f"Co {n}")
        customer_reassign(
            actor=admin_user, customer=customer_a, account_manager=manager, reason=f"Move {n}"
        )
    # One query per kind of related row named (segments, users), not one per change.
    assert queries() <= few
