"""The defection and complaint report: hand-computed numbers per month and per segment,
scoped to the caller's book, on the page and in the API."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from relationships.models import DefectionReason
from relationships.selectors import defection_report
from tests.factories import DefectionFactory, InteractionFactory, SegmentFactory

TODAY = dt.date(2026, 6, 15)


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _reason(code):
    return DefectionReason.objects.get(code=code)


def _book(customer_a, customer_b, manager_a, manager_b):
    customer_a.segment = SegmentFactory(name="Retail")
    customer_a.save()
    customer_b.segment = SegmentFactory(name="Wholesale")
    customer_b.save()
    DefectionFactory(customer=customer_a, reason=_reason("price"), defected_on=dt.date(2026, 1, 10))
    DefectionFactory(
        customer=customer_a, reason=_reason("service"), defected_on=dt.date(2026, 1, 20)
    )
    DefectionFactory(
        customer=customer_a, reason=_reason("price"), defected_on=dt.date(2025, 6, 30)
    )  # too old
    DefectionFactory(customer=customer_b, reason=_reason("price"), defected_on=dt.date(2026, 3, 5))
    complaint = {"kind": "complaint", "author": manager_a}
    InteractionFactory(
        customer=customer_a,
        root_cause=_reason("price"),
        occurred_at=_at(dt.date(2026, 1, 5)),
        **complaint,
    )
    InteractionFactory(customer=customer_a, occurred_at=_at(dt.date(2026, 3, 2)), **complaint)
    InteractionFactory(
        customer=customer_a, kind="feedback", author=manager_a, occurred_at=_at(dt.date(2026, 3, 2))
    )
    InteractionFactory(
        customer=customer_b,
        kind="complaint",
        author=manager_b,
        root_cause=_reason("service"),
        occurred_at=_at(dt.date(2026, 3, 10)),
    )


def _month(data, key, month):
    return next(r for r in data[key] if r["month"] == month)


def test_admin_report_counts_by_month_and_segment(
    admin_user, manager_a, manager_b, customer_a, customer_b
):
    _book(customer_a, customer_b, manager_a, manager_b)

    data = defection_report(actor=admin_user, today=TODAY)

    assert data["start"] == dt.date(2025, 7, 1)
    assert len(data["months"]) == 12
    assert data["defection_reasons"] == ["Price", "Service"]
    assert _month(data, "defections_by_month", dt.date(2026, 1, 1))["counts"] == [1, 1]
    assert _month(data, "defections_by_month", dt.date(2026, 3, 1))["counts"] == [1, 0]
    assert sum(r["total"] for r in data["defections_by_month"]) == 3
    assert data["complaint_causes"] == ["Price", "Service", "Not classified"]
    assert _month(data, "complaints_by_month", dt.date(2026, 1, 1))["counts"] == [1, 0, 0]
    assert _month(data, "complaints_by_month", dt.date(2026, 3, 1))["counts"] == [0, 1, 1]
    segments = {s["segment"]: s for s in data["segments"]}
    assert (segments["Retail"]["defections"], segments["Retail"]["complaints"]) == (2, 2)
    assert (segments["Wholesale"]["defections"], segments["Wholesale"]["complaints"]) == (1, 1)
    assert segments["Wholesale"]["top_complaint_cause"] == "Service"


def test_manager_report_covers_only_their_book(
    admin_user, manager_a, manager_b, customer_a, customer_b
):
    _book(customer_a, customer_b, manager_a, manager_b)

    data = defection_report(actor=manager_a, today=TODAY)

    assert sum(r["total"] for r in data["defections_by_month"]) == 2
    assert _month(data, "defections_by_month", dt.date(2026, 3, 1))["total"] == 0
    assert [s["segment"] for s in data["segments"]] == ["Retail"]
    assert "Service" not in data["complaint_causes"]


def test_report_page_draws_charts_and_tables_for_the_managers_book(
    client, manager_a, manager_b, customer_a, customer_b
):
    customer_a.segment = SegmentFactory(name="Retail")
    customer_a.save()
    customer_b.segment = SegmentFactory(name="Wholesale")
    customer_b.save()
    DefectionFactory(customer=customer_a, reason=_reason("competitor"))
    DefectionFactory(customer=customer_b, reason=_reason("moved"))
    client.force_login(manager_a)

    page = client.get(reverse("defection-report")).content.decode()

    assert "<svg" in page
    assert "Competitor" in page
    assert "Moved" not in page
    assert "Retail" in page
    assert "Wholesale" not in page


def test_empty_report_says_so(client, manager_a):
    client.force_login(manager_a)
    page = client.get(reverse("defection-report")).content.decode()
    assert "No defections in the last 12 months." in page
    assert "No complaints in the last 12 months." in page


def test_dashboard_links_to_the_report(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("analytics")).content.decode()
    assert reverse("defection-report") in page
    assert reverse("ladder") in page


def test_api_gives_the_same_numbers(client, manager_a, customer_a, customer_b):
    DefectionFactory(customer=customer_a, reason=_reason("price"))
    DefectionFactory(customer=customer_a, reason=_reason("price"))
    DefectionFactory(customer=customer_b, reason=_reason("service"))
    client.force_login(manager_a)

    body = client.get("/api/v1/defection-report/").json()

    assert body["defection_reasons"] == ["Price"]
    assert body["defections_by_month"][-1]["counts"] == [2]
    assert (
        body["defections_by_month"][-1]["month"] == timezone.localdate().replace(day=1).isoformat()
    )
    assert [s["defections"] for s in body["segments"]] == [2]


def test_stacked_chart_blocks_are_proportional_to_counts():
    from relationships.views.charts import stacked_chart

    grid = [
        {"month": dt.date(2026, 1, 1), "counts": [1, 1], "total": 2},
        {"month": dt.date(2026, 2, 1), "counts": [0, 1], "total": 1},
    ]

    chart = stacked_chart(grid, ["Price", "Service"])

    first, second = chart["bars"]
    assert [b["h"] for b in first["blocks"]] == [74.0, 74.0]  # the tallest bar fills 148 px
    assert [(b["label"], b["h"]) for b in second["blocks"]] == [("Service", 74.0)]
    assert first["blocks"][0]["color"] != first["blocks"][1]["color"]
    assert (
        stacked_chart([{"month": dt.date(2026, 1, 1), "counts": [0], "total": 0}], ["Price"])
        is None
    )
