import datetime as dt
import zoneinfo
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from kombu.exceptions import OperationalError

from customers import hooks
from customers.errors import NotAllowed
from customers.imports import (
    ImportFileError,
    PurchaseImporter,
    import_job_create,
    import_job_run,
    template_csv,
)
from customers.models import (
    AccountManagerAssignment,
    Customer,
    ImportJob,
    Purchase,
    StageChange,
)
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory, UserFactory

CUSTOMERS_HEADER = "name,kind,email,segment,stage,acquired_on,account_manager,tags\n"
PURCHASES_HEADER = "customer_id,customer_email,reference,amount,currency,occurred_at,product\n"


def run(actor, kind, text, mode="all_or_nothing", filename="file.csv"):
    job = import_job_create(
        actor=actor, kind=kind, mode=mode, filename=filename, data=text.encode("utf-8")
    )
    return import_job_run(job_id=job.pk)


@pytest.fixture
def listened(monkeypatch):
    """Record what the purchase listeners receive, and whether it is inside a transaction."""
    seen = []
    monkeypatch.setattr(
        hooks,
        "_purchase_listeners",
        [lambda p: seen.append((p.reference, p.pk, connection.in_atomic_block))],
    )
    return seen


# ---------------------------------------------------------------- customers


def test_customers_import_good_file(admin_user, manager_a):
    SegmentFactory(name="Wholesale")
    text = CUSTOMERS_HEADER + (
        "Nordwind GmbH,organisation,info@nordwind.example,wholesale,client,2026-01-15,alice,north; key\n"
        '"Smith, Jane",,jane@example.com,,,,,\n'
    )
    job = run(admin_user, "customers", text)

    assert job.status == "done"
    assert (job.total_rows, job.processed_rows, job.imported_rows) == (2, 2, 2)
    assert job.errors == []
    nordwind = Customer.objects.get(name="Nordwind GmbH")
    assert nordwind.kind == "organisation"
    assert nordwind.segment.name == "Wholesale"
    assert nordwind.stage == "client"
    assert nordwind.acquired_on == dt.date(2026, 1, 15)
    assert nordwind.account_manager == manager_a
    assert sorted(t.name for t in nordwind.tags.all()) == ["key", "north"]
    assignment = AccountManagerAssignment.objects.get(customer=nordwind)
    assert assignment.account_manager == manager_a
    assert assignment.changed_by == admin_user
    assert assignment.ended_at is None
    jane = Customer.objects.get(name="Smith, Jane")
    assert (jane.kind, jane.stage, jane.status, jane.segment) == (
        "person",
        "prospect",
        "active",
        None,
    )
    assert not AccountManagerAssignment.objects.filter(customer=jane).exists()


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",person,,,,,,", "name", "needs a name"),
        ("X,robot,,,,,,", "kind", "Unknown kind 'robot'"),
        ("X,,not-an-email,,,,,", "email", "not an e-mail address"),
        ("X,,,Nowhere,,,,", "segment", "no segment called 'Nowhere'"),
        ("X,,,,champion,,,", "stage", "Unknown ladder stage 'champion'"),
        ("X,,,,,15/01/2026,,", "acquired_on", "not a date as YYYY-MM-DD"),
        ("X,,,,,,nobody,", "account_manager", "no user 'nobody'"),
        ("X,,,,,,ada,", "account_manager", "not an active account manager"),
        ("X,,,,,,gone,", "account_manager", "not an active account manager"),
        ("X,,,,,,,a;" + "t" * 51, "tags", "at most 50 fit"),
        ("X,,,,,,", None, "has 7 fields but the header has 8"),
    ],
)
def test_customers_bad_row_is_reported_with_its_line(admin_user, manager_a, row, column, reason):
    UserFactory(username="gone", role="account_manager", is_active=False)
    text = CUSTOMERS_HEADER + "Good One,,,,,,alice,\n\n" + row + "\n"
    job = run(admin_user, "customers", text)

    assert job.status == "rejected"
    assert len(job.errors) == 1
    error = job.errors[0]
    assert error["line"] == 4  # header 1, good row 2, blank line 3
    assert error["column"] == column
    assert reason in error["message"]
    assert not Customer.objects.exists()


def test_too_long_value_is_a_row_error_not_a_database_error(admin_user):
    text = "name,phone\nLong,+" + "1" * 60 + "\n"
    job = run(admin_user, "customers", text)
    assert job.status == "rejected"
    assert job.errors[0]["line"] == 2
    assert "at most 40 fit" in job.errors[0]["message"]


def test_all_or_nothing_imports_nothing_when_one_row_is_bad(admin_user):
    text = "name,stage\nFirst,prospect\nSecond,wrong\nThird,\n"
    job = run(admin_user, "customers", text, mode="all_or_nothing")
    assert job.status == "rejected"
    assert job.imported_rows == 0
    assert [e["line"] for e in job.errors] == [3]
    assert not Customer.objects.exists()


def test_valid_rows_imports_the_good_rows_and_reports_the_bad(admin_user):
    text = "name,stage\nFirst,prospect\nSecond,wrong\n,client\nFourth,Advocate\n"
    job = run(admin_user, "customers", text, mode="valid_rows")
    assert job.status == "done"
    assert job.imported_rows == 2
    assert [e["line"] for e in job.errors] == [3, 4]
    assert sorted(Customer.objects.values_list("name", "stage")) == [
        ("First", "prospect"),
        ("Fourth", "advocate"),
    ]


def test_valid_rows_with_no_good_row_is_rejected(admin_user):
    job = run(admin_user, "customers", "name,stage\nA,bad\n", mode="valid_rows")
    assert job.status == "rejected"
    assert not Customer.objects.exists()


def test_customer_validation_takes_a_constant_number_of_queries(admin_user, manager_a):
    SegmentFactory(name="Retail")

    def queries_for(rows):
        text = CUSTOMERS_HEADER + "".join(
            f"C{i},,c{i}@example.com,Retail,,,alice,t{i % 3};shared\n" for i in range(rows)
        )
        job = import_job_create(
            actor=admin_user,
            kind="customers",
            mode="valid_rows",
            filename="f.csv",
            data=text.encode(),
        )
        with CaptureQueriesContext(connection) as ctx:
            assert import_job_run(job_id=job.pk).imported_rows == rows
        return len(ctx.captured_queries)

    # 40, not more: SQLite takes at most 999 parameters a statement, so Django splits a bulk
    # insert of more than 999 / (Customer's ~21 columns) rows in two there.
    assert queries_for(5) == queries_for(40)


# ---------------------------------------------------------------- purchases


def test_purchases_import_good_file(admin_user, listened, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    prospect = CustomerFactory(stage="prospect", email="Pat@Example.com")
    client = CustomerFactory(stage="client", email="")
    text = PURCHASES_HEADER + (
        f",pat@example.com,INV-1,10.50,eur,2026-02-01,Widget\n"
        f"{client.pk},,INV-2,1250,,2026-02-01T10:30:00Z,\n"
        f"{prospect.pk},PAT@example.com,INV-3,0,USD,2026-01-05T09:00:00+01:00,Gadget\n"
    )
    job = run(admin_user, "purchases", text)

    assert job.status == "done", job.errors
    assert job.imported_rows == 3
    inv1 = Purchase.objects.get(reference="INV-1")
    assert inv1.customer == prospect
    assert inv1.amount == Decimal("10.50")
    assert inv1.currency == "EUR"
    # A bare date is midnight where the company is.
    assert inv1.occurred_at == dt.datetime(2026, 2, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    inv2 = Purchase.objects.get(reference="INV-2")
    assert (inv2.customer, inv2.currency) == (client, "EUR")
    assert inv2.occurred_at == dt.datetime(2026, 2, 1, 10, 30, tzinfo=dt.UTC)
    # The first purchase moves a prospect up the ladder, named after the earliest one.
    prospect.refresh_from_db()
    assert prospect.stage == "customer"
    change = StageChange.objects.get(customer=prospect)
    assert (change.from_stage, change.to_stage, change.rule) == (
        "prospect",
        "customer",
        "first_purchase",
    )
    assert "INV-3" in change.reason
    assert not StageChange.objects.filter(customer=client).exists()
    # Every imported purchase went through the purchase listeners, inside the transaction.
    assert sorted(ref for ref, _, _ in listened) == ["INV-1", "INV-2", "INV-3"]
    assert all(pk is not None and in_atomic for _, pk, in_atomic in listened)


def test_imported_purchases_earn_loyalty_points(admin_user, customer_a):
    # The real listeners: loyalty subscribes to the purchase hook in its AppConfig.ready().
    from loyalty.models import Membership
    from tests.factories import ProgramFactory

    program = ProgramFactory(name="Club")
    text = PURCHASES_HEADER + (
        f"{customer_a.pk},,INV-1,120.50,EUR,2026-02-01,\n{customer_a.pk},,INV-2,30,EUR,2026-02-02,\n"
    )
    assert run(admin_user, "purchases", text).imported_rows == 2
    membership = Membership.objects.get(customer=customer_a, program=program)
    assert membership.balance == 150
    assert membership.entries.count() == 2


def test_a_failing_listener_rolls_the_whole_import_back(admin_user, monkeypatch):
    customer = CustomerFactory()

    def broken(purchase):
        raise RuntimeError("loyalty is broken")

    monkeypatch.setattr(hooks, "_purchase_listeners", [broken])
    text = PURCHASES_HEADER + f"{customer.pk},,INV-1,1,EUR,2026-02-01,\n"
    job = run(admin_user, "purchases", text)
    assert job.status == "failed"
    assert "nothing was imported" in job.errors[0]["message"]
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("{pk},,INV-9,1,EUR,2026-02-01T10:00:00,", "occurred_at", "has no time zone"),
        ("{pk},,INV-9,1,EUR,yesterday,", "occurred_at", "is not a date and time"),
        ("{pk},,INV-9,1,EUR,,", "occurred_at", "occurred_at is required"),
        ("{pk},,INV-9,abc,EUR,2026-02-01,", "amount", "is not an amount"),
        ("{pk},,INV-9,-5,EUR,2026-02-01,", "amount", "zero or more"),
        ("{pk},,INV-9,1.234,EUR,2026-02-01,", "amount", "at most two decimals"),
        ("{pk},,INV-9,1,EURO,2026-02-01,", "currency", "three-letter ISO code"),
        ("{pk},,,1,EUR,2026-02-01,", "reference", "needs a reference"),
        ("{pk},,INV-OLD,1,EUR,2026-02-01,", "reference", "already recorded"),
        ("{pk},,INV-1,1,EUR,2026-02-01,", "reference", "already on line 2 of this file"),
        ("999999,,INV-9,1,EUR,2026-02-01,", "customer_id", "no customer 999999"),
        ("x1,,INV-9,1,EUR,2026-02-01,", "customer_id", "not a number"),
        ("{pk},other@example.com,INV-9,1,EUR,2026-02-01,", "customer_email", "has the e-mail"),
        (",nobody@example.com,INV-9,1,EUR,2026-02-01,", "customer_email", "no customer with"),
        (",twin@example.com,INV-9,1,EUR,2026-02-01,", "customer_email", "use customer_id"),
        (",,INV-9,1,EUR,2026-02-01,", "customer_id", "Give the customer_id or customer_email"),
    ],
)
def test_purchases_bad_row_is_reported_with_its_line(admin_user, row, column, reason):
    customer = CustomerFactory(email="c@example.com")
    CustomerFactory(email="twin@example.com")
    CustomerFactory(email="Twin@example.com")
    PurchaseFactory(customer=customer, reference="INV-OLD")
    text = (
        PURCHASES_HEADER
        + f"{customer.pk},,INV-1,1,EUR,2026-02-01,\n"
        + row.format(pk=customer.pk)
        + "\n"
    )
    job = run(admin_user, "purchases", text)

    assert job.status == "rejected"
    assert [(e["line"], e["column"]) for e in job.errors] == [(3, column)]
    assert reason in job.errors[0]["message"]
    assert Purchase.objects.count() == 1  # only INV-OLD


def test_same_reference_for_two_customers_is_fine(admin_user):
    # References are unique per customer, as the database constraint says.
    a, b = CustomerFactory(), CustomerFactory()
    text = PURCHASES_HEADER + f"{a.pk},,R-1,1,EUR,2026-02-01,\n{b.pk},,R-1,2,EUR,2026-02-01,\n"
    assert run(admin_user, "purchases", text).imported_rows == 2


def test_purchase_validation_takes_a_constant_number_of_queries(admin_user, monkeypatch):
    monkeypatch.setattr(hooks, "_purchase_listeners", [])
    customers = CustomerFactory.create_batch(3, stage="client")

    def queries_for(rows, prefix):
        text = PURCHASES_HEADER + "".join(
            f"{customers[i % 3].pk},,{prefix}-{i},1,EUR,2026-02-01,\n" for i in range(rows)
        )
        job = import_job_create(
            actor=admin_user,
            kind="purchases",
            mode="valid_rows",
            filename="f.csv",
            data=text.encode(),
        )
        with CaptureQueriesContext(connection) as ctx:
            assert import_job_run(job_id=job.pk).imported_rows == rows
        return len(ctx.captured_queries)

    assert queries_for(4, "A") == queries_for(80, "B")


# ---------------------------------------------------------------- files and jobs


@pytest.mark.parametrize(
    ("kind", "data", "reason"),
    [
        ("customers", b"", "The file is empty"),
        ("customers", b"  \n\n", "The file is empty"),
        ("customers", "name\nJosé\n".encode("latin-1"), "not UTF-8"),
        ("customers", b"name,emial\nA,a@example.com\n", "Unknown columns: emial"),
        ("customers", b"email,phone\na@example.com,1\n", "Missing columns in the header: name"),
        ("customers", b"name,name\nA,B\n", "Columns appear twice"),
        ("customers", b"name\n", "header but no rows"),
        ("customers", b'name\n"unclosed\n', "malformed"),
        (
            "purchases",
            b"reference,amount,occurred_at\nR,1,2026-01-01\n",
            "customer_id or customer_email",
        ),
        (
            "purchases",
            b"customer_id,reference,occurred_at\n1,R,2026-01-01\n",
            "Missing columns in the header: amount",
        ),
    ],
)
def test_bad_file_is_one_clear_error_and_writes_nothing(admin_user, kind, data, reason):
    with pytest.raises(ImportFileError) as exc:
        import_job_create(
            actor=admin_user, kind=kind, mode="valid_rows", filename="f.csv", data=data
        )
    assert reason in exc.value.message
    assert not ImportJob.objects.exists()


def test_too_large_file_is_refused(admin_user, settings):
    settings.CRM_IMPORT_MAX_BYTES = 20
    with pytest.raises(ImportFileError, match="larger than 20 bytes"):
        import_job_create(
            actor=admin_user,
            kind="customers",
            mode="valid_rows",
            filename="f.csv",
            data=b"name\n" + b"Somebody\n" * 5,
        )
    assert not ImportJob.objects.exists()


def test_byte_order_mark_and_header_case_are_accepted(admin_user):
    job = run(admin_user, "customers", "\ufeffName,EMAIL\r\nA,a@example.com\r\n")
    assert job.status == "done"
    assert Customer.objects.get().email == "a@example.com"


def test_only_admins_import(manager_a):
    with pytest.raises(NotAllowed):
        import_job_create(
            actor=manager_a, kind="customers", mode="valid_rows", filename="f", data=b"name\nA\n"
        )


def test_running_a_finished_job_again_does_nothing(admin_user):
    job = run(admin_user, "customers", "name\nOnce\n")
    again = import_job_run(job_id=job.pk)
    assert again.status == "done"
    assert Customer.objects.filter(name="Once").count() == 1


def test_a_job_left_running_by_a_dead_worker_starts_again(admin_user):
    job = import_job_create(
        actor=admin_user,
        kind="customers",
        mode="valid_rows",
        filename="f.csv",
        data=b"name\nA\nB\n",
    )
    ImportJob.objects.filter(pk=job.pk).update(status="running", processed_rows=1)
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.imported_rows) == ("done", 2)
    assert Customer.objects.count() == 2


def test_progress_is_saved_while_rows_are_checked(admin_user):
    job = import_job_create(
        actor=admin_user,
        kind="customers",
        mode="valid_rows",
        filename="f.csv",
        data=("name\n" + "".join(f"P{i}\n" for i in range(250))).encode(),
    )
    seen = {}

    def peek(done):
        if done in (99, 101, 201):
            seen[done] = ImportJob.objects.get(pk=job.pk).processed_rows

    import_job_run(job_id=job.pk, on_progress=peek)
    # Saved every 100 rows (at most every 2% of a large file), outside the write transaction.
    assert seen == {99: 0, 101: 100, 201: 200}


def test_a_clash_between_checking_and_writing_imports_nothing(admin_user, monkeypatch):
    customer = CustomerFactory()
    preload = PurchaseImporter.preload

    def preload_then_clash(self, rows):
        preload(self, rows)
        # Someone records INV-2 after the import looked for existing references.
        PurchaseFactory(customer=customer, reference="INV-2")

    monkeypatch.setattr(PurchaseImporter, "preload", preload_then_clash)
    text = PURCHASES_HEADER + (
        f"{customer.pk},,INV-1,1,EUR,2026-02-01,\n{customer.pk},,INV-2,1,EUR,2026-02-01,\n"
    )
    job = run(admin_user, "purchases", text)
    assert job.status == "failed"
    assert "nothing was imported" in job.errors[0]["message"]
    assert list(Purchase.objects.values_list("reference", flat=True)) == ["INV-2"]


def test_errors_stored_are_capped_but_counted(admin_user, monkeypatch):
    monkeypatch.setattr("customers.imports.jobs.MAX_REPORTED_ERRORS", 3)
    job = run(admin_user, "customers", "name,stage\n" + "A,bad\n" * 5)
    assert [e["line"] for e in job.errors] == [2, 3, 4, None]
    assert "2 more bad rows" in job.errors[-1]["message"]


def test_templates_are_importable_after_filling_in(admin_user):
    job = run(admin_user, "customers", template_csv("customers"))
    assert job.status == "done", job.errors
    job = run(admin_user, "purchases", template_csv("purchases"))
    assert job.status == "done", job.errors
    assert Purchase.objects.get().customer.name == "Nordwind GmbH"


# ---------------------------------------------------------------- commands


@pytest.fixture
def csv_file(tmp_path):
    def write(text, name="data.csv"):
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return str(path)

    return write


def test_import_customers_command(admin_user, csv_file, capsys):
    call_command("import_customers", csv_file("name\nA\nB\n"))
    assert "Imported 2 of 2 rows" in capsys.readouterr().out
    job = ImportJob.objects.get()
    assert (job.created_by, job.mode, job.status) == (admin_user, "all_or_nothing", "done")


def test_import_command_rejects_and_prints_lines(admin_user, csv_file, capsys):
    with pytest.raises(CommandError, match="Nothing imported: 1 bad rows of 2") as exc:
        call_command("import_customers", csv_file("name,stage\nA,\nB,nope\n"))
    assert exc.value.returncode == 1
    assert "line 3 [stage]: Unknown ladder stage 'nope'" in capsys.readouterr().err
    assert not Customer.objects.exists()


def test_import_command_valid_rows_exits_non_zero_when_rows_were_left_out(
    admin_user, csv_file, capsys
):
    with pytest.raises(CommandError, match="1 bad rows left out of 2"):
        call_command(
            "import_customers", csv_file("name,stage\nA,\nB,nope\n"), "--mode", "valid-rows"
        )
    assert "Imported 1 of 2 rows" in capsys.readouterr().out
    assert list(Customer.objects.values_list("name", flat=True)) == ["A"]


def test_import_purchases_command_as_user(admin_user, csv_file, capsys):
    other = UserFactory(username="root", role="admin")
    customer = CustomerFactory()
    path = csv_file(PURCHASES_HEADER + f"{customer.pk},,INV-1,9.99,EUR,2026-02-01,\n")
    call_command("import_purchases", path, "--as", "root")
    assert "Imported 1 of 1 rows" in capsys.readouterr().out
    assert ImportJob.objects.get().created_by == other


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.csv"], "Cannot read /no/such/file.csv"),
        (["{file}", "--mode", "some"], "invalid choice: 'some'"),
        (["{file}", "--as", "alice"], "alice is not an active admin"),
        (["{file}", "--as", "nobody"], "There is no user 'nobody'"),
        (["{bad}"], "not UTF-8"),
    ],
)
def test_import_command_bad_flag_or_file_is_one_clear_error(
    admin_user, manager_a, csv_file, args, message
):
    good, bad = csv_file("name\nA\n"), csv_file(b"name\n\xff\n", name="bad.csv")
    with pytest.raises(CommandError, match=message):
        call_command("import_customers", *[a.format(file=good, bad=bad) for a in args])
    assert not Customer.objects.exists()


def test_import_command_needs_an_admin(db, csv_file):
    with pytest.raises(CommandError, match="no active admin"):
        call_command("import_customers", csv_file("name\nA\n"))


# ---------------------------------------------------------------- pages


def upload(client, text, kind="customers", mode="all_or_nothing", name="people.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        reverse("import-create"),
        {"kind": kind, "mode": mode, "file": SimpleUploadedFile(name, data, "text/csv")},
    )


def test_pages_are_for_admins_only(client, admin_user, manager_a, customer_user):
    job = ImportJob.objects.create(
        kind="customers",
        mode="valid_rows",
        filename="f.csv",
        content="name\nA\n",
        created_by=admin_user,
    )
    urls = [
        reverse("import-list"),
        reverse("import-create"),
        reverse("import-detail", args=[job.pk]),
        reverse("import-progress", args=[job.pk]),
        reverse("import-template", args=["customers"]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    for user in (manager_a, customer_user):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403, url
        assert client.post(reverse("import-send", args=[job.pk])).status_code == 403
        assert upload(client, "name\nSneaky\n").status_code == 403
    assert not Customer.objects.exists()
    client.force_login(admin_user)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_nav_shows_imports_to_admins_only(client, admin_user, manager_a):
    client.force_login(manager_a)
    assert reverse("import-list") not in client.get(reverse("customer-list")).content.decode()
    client.force_login(admin_user)
    assert reverse("import-list") in client.get(reverse("customer-list")).content.decode()


# Transactional, like a real request: the task is sent once the upload is committed.
@pytest.mark.django_db(transaction=True)
def test_upload_runs_the_import_and_shows_the_result(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, "name,stage\nGood,\nBad,nope\n", mode="valid_rows")
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("import-detail", args=[job.pk])

    page = client.get(response.url).content.decode()
    assert "people.csv" in page
    assert "Imported 1 of 2 rows" in page
    assert "Unknown ladder stage" in page
    assert "<td>3</td>" in page  # the bad row's line
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    assert list(Customer.objects.values_list("name", flat=True)) == ["Good"]

    listing = client.get(reverse("import-list")).content.decode()
    assert "people.csv" in listing
    assert "Done" in listing


# Transactional, like a real request: the task is sent once the upload is committed.
@pytest.mark.django_db(transaction=True)
def test_rejected_upload_shows_why(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, "name,stage\nGood,\nBad,nope\n", mode="all_or_nothing")
    page = client.get(response.url).content.decode()
    assert "Nothing was imported" in page
    assert "Unknown ladder stage" in page
    assert not Customer.objects.exists()


def test_bad_file_upload_shows_the_error_and_creates_nothing(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, "nom,prenom\nA,B\n")
    assert response.status_code == 200
    assert "Unknown columns: nom, prenom" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_form_needs_kind_and_file(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("import-create"), {"kind": "wizards", "mode": "valid_rows"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "This field is required" in response.content.decode()  # the file
    assert "This field is required" in client.post(reverse("import-create")).content.decode()
    assert not ImportJob.objects.exists()


def test_progress_polls_while_running_and_stops_when_finished(client, admin_user):
    client.force_login(admin_user)
    job = ImportJob.objects.create(
        kind="customers",
        mode="valid_rows",
        filename="f.csv",
        content="name\nA\nB\nC\nD\n",
        created_by=admin_user,
        status="running",
        total_rows=4,
        processed_rows=1,
    )
    url = reverse("import-progress", args=[job.pk])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert 'aria-valuenow="25"' in fragment
    assert "1 of 4" in fragment
    assert "<html" not in fragment

    ImportJob.objects.filter(pk=job.pk).update(status="pending", processed_rows=0)
    import_job_run(job_id=job.pk)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' not in fragment
    assert 'aria-valuenow="100"' in fragment
    assert "Imported 4 of 4 rows" in fragment


# Transactional, like a real request: the task is sent once the upload is committed.
@pytest.mark.django_db(transaction=True)
def test_broker_down_keeps_the_job_waiting_and_says_so(client, admin_user, caplog):
    client.force_login(admin_user)
    with mock.patch(
        "customers.tasks.import_run.apply_async", side_effect=OperationalError("Connection refused")
    ):
        response = upload(client, "name\nLater\n")
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.status == "pending"
    assert "Could not queue import job" in caplog.text
    page = client.get(response.url).content.decode()
    assert "will start when the worker is back" in page
    assert 'hx-trigger="every 1s"' in page
    assert not Customer.objects.exists()

    # Still down: sending again says so again, nothing breaks.
    with mock.patch(
        "customers.tasks.import_run.apply_async", side_effect=OperationalError("Connection refused")
    ):
        response = client.post(reverse("import-send", args=[job.pk]), follow=True)
    assert "will start when the worker is back" in response.content.decode()
    # The broker is back (eager here): sending again runs it.
    response = client.post(reverse("import-send", args=[job.pk]), follow=True)
    assert "Imported 1 of 1 rows" in response.content.decode()
    assert Customer.objects.get().name == "Later"


def test_template_download(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("import-template", args=["purchases"]))
    assert response["Content-Type"].startswith("text/csv")
    assert "purchases-template.csv" in response["Content-Disposition"]
    assert response.content.decode().startswith("customer_id,customer_email,reference,amount")
    assert client.get("/imports/template/wizards.csv").status_code == 404
