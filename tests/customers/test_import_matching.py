"""Customer imports that match existing customers (on external id or e-mail) update them
instead of duplicating; a check-only run says what it would do; a bad row names every bad
field."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from customers.errors import Conflict
from customers.imports import ImportFileError, import_job_confirm, import_job_create, import_job_run
from customers.models import AccountManagerAssignment, Customer, ImportJob, Purchase, StageChange
from tests.factories import CustomerFactory, SegmentFactory

HEADER = "external_id,name,email,stage,account_manager,tags\n"
FILE = HEADER + (
    "ERP-1,Nordwind GmbH,info@nordwind.example,client,alice,north\n"
    "ERP-2,Smith Jane,jane@example.com,,,\n"
)


def run(actor, text, *, match_on="external_id", check_only=False, mode="all_or_nothing"):
    job = import_job_create(
        actor=actor,
        kind="customers",
        mode=mode,
        filename="people.csv",
        data=text.encode("utf-8"),
        match_on=match_on,
        check_only=check_only,
    )
    return import_job_run(job_id=job.pk)


def test_importing_the_same_file_twice_updates_instead_of_duplicating(admin_user, manager_a):
    first = run(admin_user, FILE)
    second = run(admin_user, FILE)

    assert (first.created_rows, first.updated_rows) == (2, 0)
    assert (second.status, second.created_rows, second.updated_rows) == ("done", 0, 2)
    assert Customer.objects.count() == 2
    nordwind = Customer.objects.get(external_id="ERP-1")
    assert AccountManagerAssignment.objects.filter(customer=nordwind).count() == 1


def test_a_matched_row_updates_its_non_blank_cells(admin_user, manager_a, manager_b):
    customer = CustomerFactory(
        external_id="ERP-1", name="Old name", phone="+1 555", stage="customer"
    )
    customer.tags.create(name="old")
    text = "external_id,name,phone,stage,account_manager,tags\nERP-1,New name,,client,alice,new\n"

    job = run(admin_user, text)

    customer.refresh_from_db()
    assert job.updated_rows == 1
    assert customer.name == "New name"
    assert customer.phone == "+1 555"  # blank cell: unchanged
    assert customer.stage == "client"
    assert customer.account_manager == manager_a
    assert sorted(customer.tags.values_list("name", flat=True)) == ["new", "old"]
    assert StageChange.objects.filter(customer=customer, to_stage="client").exists()
    assert AccountManagerAssignment.objects.get(customer=customer, ended_at__isnull=True).reason


def test_matching_on_email_ignores_case(admin_user):
    customer = CustomerFactory(email="Info@Nordwind.example", company="")
    text = "name,email,company\nNordwind,info@nordwind.example,Nordwind GmbH\n"

    job = run(admin_user, text, match_on="email")

    assert (job.created_rows, job.updated_rows) == (0, 1)
    customer.refresh_from_db()
    assert customer.company == "Nordwind GmbH"


def test_an_email_two_customers_share_is_a_row_error(admin_user):
    CustomerFactory(email="dup@example.com")
    CustomerFactory(email="DUP@example.com")

    job = run(admin_user, "name,email\nX,dup@example.com\n", match_on="email")

    assert job.status == "rejected"
    assert job.errors[0]["column"] == "email"
    assert "2 customers have the e-mail" in job.errors[0]["message"]


def test_without_matching_a_taken_external_id_is_a_row_error(admin_user):
    holder = CustomerFactory(external_id="ERP-1")

    job = run(admin_user, "external_id,name\nERP-1,Someone\n", match_on="none")

    assert job.status == "rejected"
    assert job.errors[0]["column"] == "external_id"
    assert f"#{holder.pk}" in job.errors[0]["message"]
    assert Customer.objects.count() == 1


def test_the_same_external_id_twice_in_a_file_is_a_row_error(admin_user):
    job = run(admin_user, "external_id,name\nERP-1,A\nERP-1,B\n", mode="valid_rows")

    assert (job.status, job.imported_rows) == ("done", 1)
    assert job.errors[0]["line"] == 3
    assert "Line 2 of this file" in job.errors[0]["message"]


def test_matching_needs_the_column(admin_user):
    with pytest.raises(ImportFileError, match="needs a external_id column"):
        import_job_create(
            actor=admin_user,
            kind="customers",
            mode="valid_rows",
            filename="f.csv",
            data=b"name\nA\n",
            match_on="external_id",
        )


def test_a_check_only_run_counts_and_writes_nothing(admin_user, manager_a):
    CustomerFactory(external_id="ERP-2")

    job = run(admin_user, FILE, check_only=True)

    assert (job.status, job.created_rows, job.updated_rows) == ("checked", 1, 1)
    assert Customer.objects.count() == 1
    import_job_confirm(actor=admin_user, job=job)
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.created_rows, job.updated_rows) == ("done", 1, 1)
    assert Customer.objects.count() == 2
    with pytest.raises(Conflict):
        import_job_confirm(actor=admin_user, job=job)


def test_a_row_reports_every_bad_field(admin_user):
    text = "name,kind,email,segment,acquired_on\n,robot,not-an-email,Nowhere,15/01/2026\n"

    job = run(admin_user, text, match_on="none")

    assert len(job.errors) == 1
    error = job.errors[0]
    assert error["column"] == "name, kind, email, segment, acquired_on"
    for part in ("needs a name", "Unknown kind 'robot'", "not an e-mail", "Nowhere", "YYYY-MM-DD"):
        assert part in error["message"]


def test_a_purchase_row_reports_every_bad_field(admin_user):
    text = "customer_email,reference,amount,currency,occurred_at\nnobody@example.com,,-1,EURO,\n"
    job = import_job_create(
        actor=admin_user, kind="purchases", mode="valid_rows", filename="p.csv", data=text.encode()
    )
    job = import_job_run(job_id=job.pk)

    columns = job.errors[0]["column"].split(", ")
    assert columns == ["customer_email", "occurred_at", "reference", "amount", "currency"]
    assert not Purchase.objects.exists()


# Transactional, like a real request: the task is sent once the upload is committed.
@pytest.mark.django_db(transaction=True)
def test_the_upload_page_checks_first_and_imports_on_the_go(client, admin_user, manager_a):
    SegmentFactory(name="Wholesale")
    client.force_login(admin_user)
    response = client.post(
        reverse("import-create"),
        {
            "kind": "customers",
            "mode": "all_or_nothing",
            "match_on": "external_id",
            "check_only": "on",
            "file": SimpleUploadedFile("people.csv", FILE.encode(), "text/csv"),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "create 2" in page
    assert "update 0" in page
    assert not Customer.objects.exists()

    job = ImportJob.objects.get()
    response = client.post(reverse("import-confirm", args=[job.pk]), follow=True)

    assert Customer.objects.count() == 2
    assert "2 created, 0 updated" in response.content.decode()


def test_the_command_matches_on_request(admin_user, manager_a, tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text(FILE, encoding="utf-8")
    call_command("import_customers", str(path), "--match", "external-id")
    call_command("import_customers", str(path), "--match", "external-id")

    assert "(0 created, 2 updated)" in capsys.readouterr().out
    assert Customer.objects.count() == 2
