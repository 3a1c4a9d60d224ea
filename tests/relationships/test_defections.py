"""Marking a customer defected: the reason is required (from the active taxonomy), the
exit-interview note optional, and the one service behind the page, the API and the import
writes the defection and the status together or not at all. A bare status change to
defected is refused everywhere else."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from customers import hooks
from customers.imports import import_job_create, import_job_run
from customers.models import Customer
from relationships.models import Defection, DefectionReason
from relationships.services import defections as defection_services
from tests.factories import DefectionFactory

HINT = "Mark defected"


def reason(code: str) -> DefectionReason:
    return DefectionReason.objects.get(code=code)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def mark_url(customer) -> str:
    return reverse("customer-mark-defected", args=[customer.pk])


def assert_untouched(customer) -> None:
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Defection.objects.filter(customer=customer).exists()


# --- the page ---------------------------------------------------------------------------


def test_manager_marks_a_customer_defected_with_reason_and_note(client, manager_a, customer_a):
    client.force_login(manager_a)
    page = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    assert f'href="{mark_url(customer_a)}"' in page

    response = client.post(
        mark_url(customer_a),
        {
            "reason": reason("competitor").pk,
            "defected_on": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
            "exit_interview_notes": "  Went with a cheaper bundle.  ",
        },
    )

    assert response.status_code == 302
    customer_a.refresh_from_db()
    assert customer_a.status == "defected"
    defection = Defection.objects.get(customer=customer_a)
    assert defection.reason.code == "competitor"
    assert defection.defected_on == timezone.localdate() - dt.timedelta(days=3)
    assert defection.exit_interview_notes == "Went with a cheaper bundle."
    assert defection.recorded_by == manager_a
    page = client.get(response["Location"]).content.decode()
    assert 'id="defection-panel"' in page
    assert "Went with a cheaper bundle." in page
    assert 'id="mark-defected"' not in page  # already recorded: nothing left to mark


def test_the_exit_note_and_the_day_are_optional(client, manager_a, customer_a):
    client.force_login(manager_a)

    client.post(mark_url(customer_a), {"reason": reason("moved").pk})

    defection = Defection.objects.get(customer=customer_a)
    assert (defection.exit_interview_notes, defection.defected_on) == ("", timezone.localdate())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose why the customer left."),
        ({"reason": "999999"}, "that one is unknown or no longer in use"),
        ({"reason": "price"}, "that one is unknown or no longer in use"),  # a code, not an id
        (
            {"reason": "PRICE_PK", "defected_on": "2999-01-01"},
            "A defection cannot be in the future.",
        ),
        (
            {"reason": "PRICE_PK", "defected_on": "2000-01-01"},
            "they cannot have left before that",
        ),
    ],
)
def test_a_bad_form_says_why_and_writes_nothing(client, manager_a, customer_a, data, message):
    data = {k: str(reason("price").pk) if v == "PRICE_PK" else v for k, v in data.items()}
    client.force_login(manager_a)

    response = client.post(mark_url(customer_a), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert_untouched(customer_a)


def test_a_retired_reason_is_not_offered_nor_accepted(client, manager_a, customer_a):
    retired = reason("other")
    retired.is_active = False
    retired.save()
    client.force_login(manager_a)

    form = client.get(mark_url(customer_a)).content.decode()
    response = client.post(mark_url(customer_a), {"reason": retired.pk})

    assert f'value="{retired.pk}"' not in form
    assert f'value="{reason("price").pk}"' in form
    assert "no longer in use" in response.content.decode()
    assert_untouched(customer_a)


def test_another_managers_customer_is_not_found(client, manager_b, customer_a):
    client.force_login(manager_b)

    assert client.get(mark_url(customer_a)).status_code == 404
    assert client.post(mark_url(customer_a), {"reason": reason("price").pk}).status_code == 404
    assert_untouched(customer_a)


def test_a_customer_cannot_leave_twice(client, manager_a, customer_a):
    client.force_login(manager_a)
    client.post(mark_url(customer_a), {"reason": reason("price").pk})

    response = client.post(mark_url(customer_a), {"reason": reason("service").pk})

    assert "already" in response.content.decode()
    assert list(Defection.objects.values_list("reason__code", flat=True)) == ["price"]


def test_a_customer_made_defected_before_reasons_were_asked_gets_theirs(
    client, manager_a, customer_a
):
    Customer.objects.filter(pk=customer_a.pk).update(status="defected")  # an old edit
    client.force_login(manager_a)
    page = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    assert "Record why they left" in page
    assert "Nobody recorded why this customer left." in page

    client.post(mark_url(customer_a), {"reason": reason("service").pk})

    assert Defection.objects.get(customer=customer_a).reason.code == "service"


def test_the_status_and_the_defection_are_written_together(manager_a, customer_a, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(defection_services, "customer_status_defected", fail)

    with pytest.raises(RuntimeError):
        defection_services.defection_record(
            actor=manager_a, customer=customer_a, reason=reason("price")
        )

    assert_untouched(customer_a)


# --- a bare status change is refused, pointing to "Mark defected" -----------------------


def test_the_edit_form_refuses_defected_and_does_not_offer_it(client, manager_a, customer_a):
    client.force_login(manager_a)
    url = reverse("customer-edit", args=[customer_a.pk])
    form = client.get(url).content.decode()
    assert '<option value="defected"' not in form

    response = client.post(
        url, {"name": customer_a.name, "kind": "person", "stage": "customer", "status": "defected"}
    )

    assert response.status_code == 200
    assert HINT in response.content.decode()
    assert_untouched(customer_a)


def test_a_defected_customer_can_still_be_edited(client, manager_a, customer_a):
    DefectionFactory(customer=customer_a)
    Customer.objects.filter(pk=customer_a.pk).update(status="defected")
    client.force_login(manager_a)

    response = client.post(
        reverse("customer-edit", args=[customer_a.pk]),
        {"name": "Acme Renamed", "kind": "person", "stage": "customer", "status": "defected"},
    )

    assert response.status_code == 302
    customer_a.refresh_from_db()
    assert (customer_a.name, customer_a.status) == ("Acme Renamed", "defected")


def test_the_customers_api_refuses_defected(manager_a, customer_a):
    changed = api(manager_a).patch(
        f"/api/v1/customers/{customer_a.pk}/", {"status": "defected"}, format="json"
    )
    created = api(manager_a).post(
        "/api/v1/customers/", {"name": "New", "status": "defected"}, format="json"
    )

    assert changed.status_code == 400
    assert "/api/v1/defections/" in changed.json()["status"][0]
    assert created.status_code == 400
    assert "status" in created.json()
    assert_untouched(customer_a)
    assert not Customer.objects.filter(name="New").exists()


def test_the_django_admin_refuses_defected_too(client, admin_user, customer_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:customers_customer_change", args=[customer_a.pk]),
        {
            "kind": "person",
            "name": customer_a.name,
            "stage": "customer",
            "status": "defected",
            **{
                f"{p}-{k}": "0"
                for p in ("assignments", "stage_changes", "purchases")
                for k in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    assert response.status_code == 200
    assert HINT in response.content.decode()
    assert_untouched(customer_a)


# --- the API ------------------------------------------------------------------------------


def test_api_marks_defected_with_the_reason_code(manager_a, customer_a):
    response = api(manager_a).post(
        "/api/v1/defections/",
        {"customer": customer_a.pk, "reason": "price", "exit_interview_notes": "Too dear."},
        format="json",
    )

    assert response.status_code == 201, response.json()
    customer_a.refresh_from_db()
    assert customer_a.status == "defected"
    assert Defection.objects.get().exit_interview_notes == "Too dear."


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "reason", "Say why the customer left"),
        ({"reason": None}, "reason", "Say why the customer left"),
        ({"reason": "aliens"}, "reason", "There is no active defection reason 'aliens'"),
        ({"reason": "price", "defected_on": "2999-01-01"}, "defected_on", "future"),
    ],
)
def test_api_refuses_a_bad_defection_and_writes_nothing(
    manager_a, customer_a, body, field, message
):
    response = api(manager_a).post(
        "/api/v1/defections/", {"customer": customer_a.pk, **body}, format="json"
    )

    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert_untouched(customer_a)


def test_api_refuses_another_managers_customer(manager_b, customer_a):
    response = api(manager_b).post(
        "/api/v1/defections/", {"customer": customer_a.pk, "reason": "price"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["customer"] == ["No such customer."]
    assert_untouched(customer_a)


def test_api_second_defection_is_a_conflict(manager_a, customer_a):
    body = {"customer": customer_a.pk, "reason": "price"}
    api(manager_a).post("/api/v1/defections/", body, format="json")

    again = api(manager_a).post("/api/v1/defections/", body, format="json")

    assert again.status_code == 409
    assert Defection.objects.count() == 1


# --- the import ---------------------------------------------------------------------------

HEADER = "name,status,acquired_on,defection_reason,defected_on,exit_interview_notes\n"


def run_import(actor, text, mode="all_or_nothing"):
    job = import_job_create(
        actor=actor, kind="customers", mode=mode, filename="f.csv", data=text.encode()
    )
    return import_job_run(job_id=job.pk)


def test_import_records_why_defected_customers_left(admin_user):
    job = run_import(
        admin_user,
        HEADER
        + "Gone Ltd,defected,2024-01-01,Price,2025-03-01,Found it cheaper.\n"
        + "Quiet Ltd,defected,,competitor,,\n"
        + "Staying Ltd,active,,,,\n",
    )

    assert job.status == "done", job.errors
    gone = Defection.objects.get(customer__name="Gone Ltd")
    assert (gone.reason.code, gone.defected_on) == ("price", dt.date(2025, 3, 1))
    assert gone.exit_interview_notes == "Found it cheaper."
    assert gone.recorded_by == admin_user
    quiet = Defection.objects.get(customer__name="Quiet Ltd")
    assert (quiet.reason.code, quiet.defected_on, quiet.exit_interview_notes) == (
        "competitor",
        timezone.localdate(),
        "",
    )
    assert Customer.objects.get(name="Gone Ltd").status == "defected"
    assert not Defection.objects.filter(customer__name="Staying Ltd").exists()


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("Gone,defected,,,,", "defection_reason", "needs a defection_reason: one of price,"),
        ("Gone,defected,,aliens,,", "defection_reason", "no defection reason 'aliens'"),
        ("Gone,defected,,price,2999-01-01,", "defected_on", "cannot be in the future"),
        ("Gone,defected,,price,1.3.2025,", "defected_on", "not a date as YYYY-MM-DD"),
        ("Gone,defected,2025-06-01,price,2025-01-01,", "defected_on", "before that"),
        ("Here,active,,price,,", "defection_reason", "only for a customer whose status is"),
        ("Here,,,,,Said goodbye", "exit_interview_notes", "only for a customer whose status"),
    ],
)
def test_import_refuses_a_bad_defected_row_and_writes_nothing(admin_user, row, column, message):
    job = run_import(admin_user, HEADER + "Fine Ltd,active,,,,\n" + row + "\n")

    assert job.status == "rejected"
    [error] = job.errors
    assert (error["line"], error["column"]) == (3, column)
    assert message in error["message"]
    assert not Customer.objects.exists()
    assert not Defection.objects.exists()


def test_import_refuses_a_retired_reason(admin_user):
    retired = reason("moved")
    retired.is_active = False
    retired.save()

    job = run_import(admin_user, HEADER + "Gone,defected,,Moved,,\n")

    assert "no longer in use" in job.errors[0]["message"]
    assert not Customer.objects.exists()


def test_import_of_valid_rows_leaves_no_orphan_defection(admin_user):
    job = run_import(
        admin_user, HEADER + "Gone,defected,,price,,\nBad,defected,,aliens,,\n", mode="valid_rows"
    )

    assert job.status == "done"
    assert job.imported_rows == 1
    assert list(Defection.objects.values_list("customer__name", flat=True)) == ["Gone"]
    assert not Customer.objects.filter(name="Bad").exists()


def test_without_a_defection_provider_the_import_refuses_defected_rows(admin_user, monkeypatch):
    monkeypatch.setattr(hooks, "_defection_import", None)

    job = run_import(admin_user, HEADER + "Gone,defected,,price,,\n")

    assert job.status == "rejected"
    assert HINT in job.errors[0]["message"]
    assert job.errors[0]["column"] == "status"


def test_defection_reasons_api_lists_the_codes_the_import_takes(manager_a):
    codes = [r["code"] for r in api(manager_a).get("/api/v1/defection-reasons/").json()]
    assert {"price", "service", "competitor"} <= set(codes)


def test_an_imported_defected_customer_shows_the_reason_on_their_page(client, admin_user):
    run_import(admin_user, HEADER + "Gone Ltd,defected,,service,,Nobody called back.\n")
    client.force_login(admin_user)
    customer = Customer.objects.get(name="Gone Ltd")

    page = client.get(reverse("customer-detail", args=[customer.pk])).content.decode()

    assert "Service" in page
    assert "Nobody called back." in page
