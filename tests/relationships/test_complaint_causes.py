"""A complaint carries its root cause: required when it is logged (page and API), editable
later by its customer's manager (another manager: 404), counted by the defection report,
whose every bar links to the customers and corrective plans behind it."""

import datetime as dt
import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from relationships.models import DefectionReason, Interaction
from relationships.selectors import defection_report
from tests.factories import (
    CorrectivePlanFactory,
    CustomerFactory,
    DefectionFactory,
    InteractionFactory,
)


def reason(code: str) -> DefectionReason:
    return DefectionReason.objects.get(code=code)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def log_form(**extra) -> dict:
    return {
        "channel": "phone",
        "kind": "complaint",
        "subject": "Invoice wrong",
        "sentiment": "-1",
        **extra,
    }


# --- logging a complaint -----------------------------------------------------------------


def test_a_complaint_without_a_root_cause_is_refused_on_the_page(client, manager_a, customer_a):
    client.force_login(manager_a)

    response = client.post(reverse("interaction-log", args=[customer_a.pk]), log_form())

    assert response.status_code == 200
    assert "Choose the complaint&#x27;s root cause" in response.content.decode()
    assert not Interaction.objects.exists()


def test_a_complaint_is_logged_with_its_cause_and_shows_it(client, manager_a, customer_a):
    client.force_login(manager_a)

    response = client.post(
        reverse("interaction-log", args=[customer_a.pk]), log_form(root_cause=reason("price").pk)
    )

    assert response.status_code == 302
    assert Interaction.objects.get().root_cause == reason("price")
    page = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    assert "Root cause: <strong>Price</strong>" in page


def test_a_cause_on_anything_but_a_complaint_is_refused(client, manager_a, customer_a):
    client.force_login(manager_a)

    response = client.post(
        reverse("interaction-log", args=[customer_a.pk]),
        log_form(kind="support", root_cause=reason("price").pk),
    )

    assert "Only a complaint has a root cause" in response.content.decode()
    assert not Interaction.objects.exists()


def api_log(user, customer, **extra):
    body = {"customer": customer.pk, "channel": "email", "kind": "complaint", "subject": "Late"}
    return api(user).post("/api/v1/interactions/", {**body, **extra}, format="json")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "Choose the complaint's root cause"),
        ({"root_cause": None}, "Choose the complaint's root cause"),
        ({"root_cause": "aliens"}, "There is no active root cause 'aliens'"),
        ({"kind": "support", "root_cause": "price"}, "Only a complaint has a root cause"),
    ],
)
def test_api_refuses_a_complaint_without_a_valid_cause(manager_a, customer_a, extra, message):
    response = api_log(manager_a, customer_a, **extra)

    assert response.status_code == 400
    assert message in response.json()["root_cause"][0]
    assert not Interaction.objects.exists()


def test_api_logs_a_complaint_with_its_cause(manager_a, customer_a):
    response = api_log(manager_a, customer_a, root_cause="service")

    assert response.status_code == 201, response.json()
    assert (response.json()["root_cause"], response.json()["root_cause_name"]) == (
        "service",
        "Service",
    )


# --- classifying later -------------------------------------------------------------------


@pytest.fixture
def old_complaint(customer_a, manager_a):
    """Logged before causes were asked for: no cause."""
    return InteractionFactory(customer=customer_a, author=manager_a, kind="complaint")


def test_manager_classifies_an_old_complaint_on_the_page(client, manager_a, old_complaint):
    client.force_login(manager_a)
    url = reverse("complaint-root-cause", args=[old_complaint.pk])
    detail = client.get(reverse("customer-detail", args=[old_complaint.customer_id]))
    assert url in detail.content.decode()

    response = client.post(url, {"root_cause": reason("service").pk})

    assert response.status_code == 302
    old_complaint.refresh_from_db()
    assert old_complaint.root_cause.code == "service"


def test_the_page_cannot_clear_a_cause(client, manager_a, old_complaint):
    old_complaint.root_cause = reason("price")
    old_complaint.save()
    client.force_login(manager_a)

    response = client.post(reverse("complaint-root-cause", args=[old_complaint.pk]), {})

    assert "Choose the complaint&#x27;s root cause." in response.content.decode()
    old_complaint.refresh_from_db()
    assert old_complaint.root_cause.code == "price"


def test_another_manager_cannot_classify_it(client, manager_b, old_complaint):
    client.force_login(manager_b)
    url = reverse("complaint-root-cause", args=[old_complaint.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"root_cause": reason("price").pk}).status_code == 404
    response = api(manager_b).post(
        f"/api/v1/interactions/{old_complaint.pk}/root-cause/",
        {"root_cause": "price"},
        format="json",
    )
    assert response.status_code == 404
    old_complaint.refresh_from_db()
    assert old_complaint.root_cause is None


def test_api_reclassifies_a_complaint(manager_a, old_complaint):
    url = f"/api/v1/interactions/{old_complaint.pk}/root-cause/"

    bad = api(manager_a).post(url, {"root_cause": "aliens"}, format="json")
    good = api(manager_a).post(url, {"root_cause": "product_quality"}, format="json")

    assert bad.status_code == 400
    assert good.status_code == 200
    assert good.json()["root_cause"] == "product_quality"
    listed = api(manager_a).get("/api/v1/interactions/?root_cause=product_quality").json()
    assert [r["id"] for r in listed["results"]] == [old_complaint.pk]


def test_only_a_complaint_gets_a_cause_later(manager_a, customer_a):
    call = InteractionFactory.create(customer=customer_a, author=manager_a, kind="support")

    response = api(manager_a).post(
        f"/api/v1/interactions/{call.pk}/root-cause/", {"root_cause": "price"}, format="json"
    )

    assert response.status_code == 400
    assert "Only a complaint" in response.json()["root_cause"][0]


# --- the report: counts and links --------------------------------------------------------

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)


def _links(page: str) -> set[str]:
    return {unescape(h) for h in re.findall(r'href="([^"]+)"', page)}


@pytest.fixture
def book(manager_a, manager_b, customer_a, customer_b):
    price, service = reason("price"), reason("service")
    a2 = CustomerFactory(account_manager=manager_a, name="Acme Two")
    DefectionFactory(customer=customer_a, reason=price, defected_on=TODAY)
    DefectionFactory(customer=a2, reason=service, defected_on=TODAY)
    DefectionFactory(customer=customer_b, reason=price, defected_on=TODAY)
    InteractionFactory(customer=customer_a, author=manager_a, kind="complaint", root_cause=price)
    InteractionFactory(customer=a2, author=manager_a, kind="complaint")  # not classified
    plan = CorrectivePlanFactory.create(title="Fair renewal prices")
    plan.causes.add(price)
    CorrectivePlanFactory.create(title="Faster support").causes.add(service)
    return {"a2": a2, "plan": plan}


def test_report_counts_per_reason_with_unclassified_complaints(admin_user, book):
    data = defection_report(actor=admin_user)

    rows = {r["name"]: r for r in data["reasons"]}
    assert (rows["Price"]["defections"], rows["Price"]["complaints"], rows["Price"]["plans"]) == (
        2,
        1,
        1,
    )
    assert rows["Not classified"]["complaints"] == 1
    assert data["complaint_cause_codes"] == ["price", ""]


def test_each_bar_links_to_its_customers(client, manager_a, book, customer_a):
    client.force_login(manager_a)
    page = client.get(reverse("defection-report")).content.decode()
    month = THIS_MONTH.strftime("%Y-%m")
    bar = f"{reverse('defection-list')}?reason=price&month={month}"
    assert bar in _links(page)
    assert f"{reverse('complaint-list')}?unclassified=1&month={month}" in _links(page)
    assert f"{reverse('plan-list')}?cause=price" in _links(page)

    listed = client.get(bar).content.decode()

    assert "Acme Alpha" in listed
    assert "Acme Two" not in listed  # service, not price
    assert "Bravo Beta" not in listed  # another manager's book
    assert f"{reverse('plan-list')}?cause=price" in _links(listed)


def test_the_unclassified_bar_lists_the_complaints_to_classify(client, manager_a, book):
    client.force_login(manager_a)

    listed = client.get(f"{reverse('complaint-list')}?unclassified=1").content.decode()

    assert "Acme Two" in listed
    assert "Acme Alpha" not in listed
    assert "classify" in listed


def test_the_plans_link_lists_the_plans_for_that_reason(client, manager_a, book):
    client.force_login(manager_a)

    page = client.get(f"{reverse('plan-list')}?cause=price").content.decode()

    assert "Fair renewal prices" in page
    assert "Faster support" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [("month=March", "Give the month as YYYY-MM"), ("reason=aliens", "no reason with that code")],
)
def test_a_bad_drill_down_link_says_why(client, manager_a, query, message):
    client.force_login(manager_a)

    response = client.get(f"{reverse('defection-list')}?{query}")

    assert response.status_code == 400
    assert message in response.content.decode()


def test_report_api_gives_the_codes_behind_each_label(manager_a, book):
    body = api(manager_a).get("/api/v1/defection-report/").json()

    assert body["defection_reasons"] == ["Price", "Service"]
    assert body["defection_reason_codes"] == ["price", "service"]
    assert body["complaint_cause_codes"] == ["price", ""]
    listed = api(manager_a).get("/api/v1/defections/?reason__code=price").json()["results"]
    assert len(listed) == 1


def test_a_month_bar_is_bounded_by_its_month(client, manager_a, customer_a):
    last_month = THIS_MONTH - dt.timedelta(days=1)
    DefectionFactory(customer=customer_a, reason=reason("moved"), defected_on=last_month)
    client.force_login(manager_a)

    this = client.get(f"{reverse('defection-list')}?month={THIS_MONTH:%Y-%m}").content.decode()
    that = client.get(f"{reverse('defection-list')}?month={last_month:%Y-%m}").content.decode()

    assert "Acme Alpha" not in this
    assert "Acme Alpha" in that


def test_the_database_keeps_causes_on_complaints_only(manager_a, customer_a):
    call = InteractionFactory.build(
        customer=customer_a, author=manager_a, kind="support", root_cause=reason("price")
    )

    # What the admin's form runs first: a message, not an error page.
    with pytest.raises(ValidationError, match="Only a complaint has a root cause"):
        call.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        call.save()
