"""Input no field can hold, sent to every API parameter and body field, the forms and the CSV
imports: a NUL byte, a UTC offset beyond what PostgreSQL keeps (±15:59), a year past 9999 or
one that leaves years 1-9999 once in UTC, integers of 10**30. The answer is 400 (or a form or
row error) naming the field, never a 500.

The schema walk runs with autocommit (transaction=True): on PostgreSQL a database error
inside the test's transaction would poison every request after it and hide the next one.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from customers.imports import import_job_create, import_job_run
from customers.models import Purchase
from relationships.models import CorrectivePlan, DefectionReason, Interaction
from tests.factories import CustomerFactory, InteractionFactory, PurchaseFactory

BAD_TEXT = {
    "nul": "a\x00b",
    "offset +20:00": "2026-01-01T00:00:00+20:00",
    "offset -16:00": "2026-01-01T00:00:00-16:00",
    "year 99999": "99999-01-01T00:00:00Z",
    "past 9999 in UTC": "9999-12-31T23:59:59-12:00",
    "before year 1 in UTC": "0001-01-01T00:00:00+12:00",
    "10**30": str(10**30),
    "-10**30": str(-(10**30)),
}
BAD_NUMBERS = {"10**30": 10**30, "-10**30": -(10**30), "1e400": 1e400}


def _values(spec: dict) -> dict:
    values: dict = dict(BAD_TEXT)
    values.update({f"{k} (number)": v for k, v in BAD_NUMBERS.items() if v != 1e400})
    if spec.get("type") == "array":
        return {f"[{k}]": [v] for k, v in values.items()}
    return values


@pytest.fixture
def staff_client(admin_user):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.mark.django_db(transaction=True)
def test_no_bad_value_in_any_api_parameter_or_field_is_a_500(staff_client, manager_a):
    customer = CustomerFactory(account_manager=manager_a)
    PurchaseFactory(customer=customer)
    InteractionFactory(customer=customer, author=manager_a)
    schema = staff_client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    failures, tried = [], 0
    for path, operations in schema["paths"].items():
        url = path.replace("{id}", str(customer.pk)).replace("{code}", "price")
        for method, operation in operations.items():
            if method == "get":
                for parameter in operation.get("parameters", []):
                    if parameter["in"] != "query":
                        continue
                    for label, value in _values(parameter.get("schema", {})).items():
                        if not isinstance(value, str):
                            continue
                        tried += 1
                        response = staff_client.get(url, {parameter["name"]: value})
                        if response.status_code >= 500:
                            failures.append(f"GET {path}?{parameter['name']}=<{label}>")
            elif method in ("post", "put", "patch"):
                body = operation.get("requestBody", {}).get("content", {})
                ref = body.get("application/json", {}).get("schema", {}).get("$ref", "")
                properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
                for name, spec in properties.items():
                    for label, value in _values(spec).items():
                        tried += 1
                        response = staff_client.generic(
                            method.upper(),
                            url,
                            json.dumps({name: value}),
                            content_type="application/json",
                        )
                        if response.status_code >= 500:
                            failures.append(f"{method.upper()} {path} {name}=<{label}>")
    assert tried > 500
    assert not failures, "\n".join(failures)


# ------------------------------------------------------ the API: 400 naming the field


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-01-01T00:00:00+20:00", "between -15:59 and +15:59"),
        ("2026-01-01T00:00:00-16:30", "between -15:59 and +15:59"),
        ("0001-01-01T00:00:00+12:00", "between the years 1 and 9999"),
        ("9999-12-31T23:59:59-12:00", "between the years 1 and 9999"),
        ("99999-01-01T00:00:00Z", "Enter a valid date/time"),
    ],
)
@pytest.mark.parametrize("param", ["occurred_after", "occurred_before"])
def test_a_date_filter_out_of_range_is_400_naming_it(staff_client, param, value, message):
    response = staff_client.get(reverse("api-purchase-list"), {param: value})
    assert response.status_code == 400
    assert message in " ".join(response.json()[param])


def test_a_date_filter_within_range_still_filters(staff_client, customer_a):
    PurchaseFactory(customer=customer_a)
    response = staff_client.get(
        reverse("api-purchase-list"), {"occurred_after": "2000-01-01T00:00:00+14:00"}
    )
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_a_nul_in_the_corrective_plans_causes_is_400_naming_it(staff_client, manager_a):
    response = staff_client.post(
        reverse("api-corrective-plan-list"),
        {"title": "Win back", "owner": manager_a.pk, "causes": ["pri\x00ce"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["causes"] == ["Null characters are not allowed."]
    assert not CorrectivePlan.objects.exists()


def test_a_nul_in_the_defection_reason_is_400_naming_it(staff_client, customer_a):
    response = staff_client.post(
        reverse("api-defection-list"),
        {"customer": customer_a.pk, "reason": "pri\x00ce"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "reason" in response.json()


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("/api/v1/customers/", {"q": "a\x00"}, "q"),
        ("/api/v1/customers/", {"search": "a\x00"}, "search"),
        ("/api/v1/interactions/", {"root_cause": "\x00"}, "root_cause"),
    ],
)
def test_a_nul_in_a_query_parameter_is_400_naming_it(staff_client, url, data, field):
    response = staff_client.get(url, data)
    assert response.status_code == 400
    assert field in response.json()


def test_a_nul_in_a_lookup_in_the_address_is_400(staff_client):
    response = staff_client.get("/api/v1/defection-reasons/pri%00ce/")
    assert response.status_code == 400
    assert "path" in response.json()


def test_a_datetime_body_field_out_of_range_is_400_naming_it(staff_client, customer_a):
    response = staff_client.post(
        reverse("api-purchase-list"),
        {
            "customer": customer_a.pk,
            "reference": "INV-1",
            "amount": "10.00",
            "currency": "EUR",
            "occurred_at": "2026-01-01T00:00:00+20:00",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "between -15:59 and +15:59" in " ".join(response.json()["occurred_at"])


def test_a_huge_integer_in_a_body_field_is_400_naming_it(staff_client, customer_a):
    response = staff_client.post(
        reverse("api-interaction-list"),
        {"customer": 10**30, "channel": "phone", "kind": "call", "subject": "Hello"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "customer" in response.json()


# ------------------------------------------------------------------ the pages' forms


def test_a_nul_in_a_page_form_is_400_naming_the_field(staff_client, manager_a):
    DefectionReason.objects.get_or_create(code="price", defaults={"label": "Price"})
    response = staff_client.post(
        reverse("plan-create"),
        {"title": "Win back", "owner": manager_a.pk, "status": "open", "causes": ["pri\x00ce"]},
    )
    assert response.status_code == 400
    assert "causes" in response.content.decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-01-01T00:00:00+20:00", "between -15:59 and +15:59"),
        ("0001-01-01T00:00", "between the years 1 and 9999"),
    ],
)
def test_a_purchase_page_with_an_impossible_moment_is_a_form_error(
    staff_client, customer_a, value, message, settings
):
    settings.TIME_ZONE = "Asia/Tokyo"  # local midnight of year 1 is still year 0 in UTC
    response = staff_client.post(
        reverse("purchase-create", kwargs={"pk": customer_a.pk}),
        {
            "reference": "INV-1",
            "amount": "10.00",
            "currency": "EUR",
            "occurred_at": value,
        },
    )
    assert response.status_code == 200
    assert message in response.context["form"].errors["occurred_at"][0]
    assert not Purchase.objects.exists()


def test_an_interaction_page_with_an_impossible_moment_is_a_form_error(staff_client, customer_a):
    response = staff_client.post(
        reverse("interaction-log", kwargs={"pk": customer_a.pk}),
        {
            "channel": "phone",
            "kind": "call",
            "subject": "Hello",
            "sentiment": "0",
            "occurred_at": "2026-01-01T00:00:00+20:00",
        },
    )
    assert response.status_code in (200, 400)
    assert "between -15:59 and +15:59" in response.content.decode()
    assert not Interaction.objects.filter(subject="Hello").exists()


# ------------------------------------------------------------------- the CSV imports

PURCHASES_HEADER = "customer_id,customer_email,reference,amount,currency,occurred_at,product\n"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("{pk},,INV-9,1,EUR,2026-02-01T10:00:00+20:00,", "occurred_at", "-15:59 and +15:59"),
        ("{pk},,INV-9,1,EUR,9999-12-31T23:00:00-05:00,", "occurred_at", "years 1 and 9999"),
        ("{pk},,INV-9,1,EUR,99999-01-01,", "occurred_at", "is not a date"),
        (f"{10**30},,INV-9,1,EUR,2026-02-01,", "customer_id", "no customer"),
        (f"{{pk}},,INV-9,{10**30},EUR,2026-02-01,", "amount", ""),
    ],
)
def test_a_purchase_import_row_out_of_range_is_a_row_error(admin_user, row, column, reason):
    customer = CustomerFactory()
    text = PURCHASES_HEADER + row.format(pk=customer.pk) + "\n"
    job = import_job_create(
        actor=admin_user,
        kind="purchases",
        mode="all_or_nothing",
        filename="p.csv",
        data=text.encode(),
    )
    job = import_job_run(job_id=job.pk)
    assert job.status == "rejected"
    assert [e["column"] for e in job.errors] == [column]
    assert reason in job.errors[0]["message"]


# --------------------------------------- the fence: no unchecked datetime field comes back


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_datetime_form_field_and_filter_of_the_apps_is_the_checked_one():
    import importlib

    import django_filters
    from django import forms

    from customers.filters import StorableIsoDateTimeField
    from customers.web import DateTimeField

    for name in ("customers", "loyalty", "relationships", "crm"):
        for module in ("forms", "api", "filters"):
            try:
                importlib.import_module(f"{name}.{module}")
            except ModuleNotFoundError:
                continue
    ours = ("customers.", "loyalty.", "relationships.", "crm.")
    # The admin's split date and time boxes take no UTC offset: left to Django.
    ours_but_admin = lambda module: module.startswith(ours) and not module.endswith(".admin")  # noqa: E731
    unchecked = []
    for form in _subclasses(forms.BaseForm):
        if ours_but_admin(form.__module__):
            for field_name, field in getattr(form, "base_fields", {}).items():
                if isinstance(field, forms.DateTimeField) and not isinstance(field, DateTimeField):
                    unchecked.append(f"{form.__module__}.{form.__name__}.{field_name}")
    for filterset in _subclasses(django_filters.FilterSet):
        if ours_but_admin(filterset.__module__):
            for filter_name, item in filterset.base_filters.items():
                if issubclass(item.field_class, forms.DateTimeField) and not issubclass(
                    item.field_class, StorableIsoDateTimeField
                ):
                    unchecked.append(f"{filterset.__module__}.{filterset.__name__}.{filter_name}")
    assert not unchecked, "use customers.web.DateTimeField / customers.filters.IsoDateTimeFilter"
