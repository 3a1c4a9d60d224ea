"""The at-risk queue, the analytics dashboard and the 360 risk panel, with real numbers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from relationships.models import CustomerMetrics, DefectionReason, NightlyRun, RelationshipStrategy
from relationships.nightly import nightly_run
from relationships.selectors import customer_risk_panel
from relationships.services import defection_record
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory

RUN = dt.date(2026, 6, 1)
AS_OF = timezone.make_aware(dt.datetime(2026, 6, 1))


def lapse(customer, amount="250.00"):
    for k in range(12):
        PurchaseFactory(
            customer=customer,
            amount=Decimal(amount),
            occurred_at=AS_OF - dt.timedelta(days=200 + 30 * k),
        )


@pytest.fixture
def scored(manager_a, manager_b):
    segment = SegmentFactory(name="Subscribers")
    RelationshipStrategy.objects.create(
        segment=segment,
        relationship_types=["long_term", "communities"],
        goal="retain",
        expected_gap_days=30,
    )
    alpha = CustomerFactory(name="Alpha Lapsed", segment=segment, account_manager=manager_a)
    bravo = CustomerFactory(name="Bravo Lapsed", segment=segment, account_manager=manager_b)
    steady = CustomerFactory(name="Steady Buyer", segment=segment, account_manager=manager_a)
    lapse(alpha)
    lapse(bravo, "90.00")
    for k in range(12):
        PurchaseFactory(customer=steady, occurred_at=AS_OF - dt.timedelta(days=5 + 30 * k))
    nightly_run(run_date=RUN)
    return {"alpha": alpha, "bravo": bravo, "steady": steady}


def test_manager_sees_only_their_flagged_customers(client, scored, manager_a):
    client.force_login(manager_a)
    page = client.get(reverse("at-risk")).content.decode()
    assert "Alpha Lapsed" in page
    assert "Bravo Lapsed" not in page
    assert "Steady Buyer" not in page
    metrics = CustomerMetrics.objects.get(customer=scored["alpha"])
    assert str(metrics.risk_score) in page
    assert "usual gap" in page
    assert reverse("customer-detail", args=[scored["alpha"].pk]) in page


def test_admin_sees_every_flag_ranked_by_value_at_risk(client, scored, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("at-risk")).content.decode()
    # Alpha spent more, so more value is at risk: first in the queue.
    assert page.index("Alpha Lapsed") < page.index("Bravo Lapsed")
    assert "Alice Anders" in page


def test_customers_cannot_open_staff_analytics(client, scored, customer_user):
    client.force_login(customer_user)
    assert client.get(reverse("at-risk")).status_code == 403
    assert client.get(reverse("analytics")).status_code == 403


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("analytics"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_dashboard_shows_charts_model_and_runs_to_admin(client, scored, admin_user):
    reason = DefectionReason.objects.get(code="competitor")
    defection_record(actor=admin_user, customer=scored["bravo"], reason=reason)
    client.force_login(admin_user)
    page = client.get(reverse("analytics")).content.decode()
    assert page.count("<svg") >= 2  # retention trend and CLV histogram
    assert "Ladder of loyalty" in page
    assert "Purchase model" in page
    assert "Holdout error" in page
    assert "Nightly runs" in page
    assert "Succeeded" in page
    run = NightlyRun.objects.get()
    assert f'{run.get_mode_display()}<br><span class="muted">{run.mode_reason}' in page
    assert "Competitor" in page
    assert "Cohorts" in page
    assert "Long-term" in page  # the relationship-type cut


def test_dashboard_for_a_manager_is_their_own_book(client, scored, manager_b):
    client.force_login(manager_b)
    response = client.get(reverse("analytics"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "your book" in page
    assert "Nightly runs" not in page
    assert "Purchase model" not in page
    # One customer in Bob's book: one customer scored, in the tier grid and the funnel.
    assert response.context["clv"]["total"] == 1
    assert sum(c["count"] for row in response.context["tiers"] for c in row) == 1


def test_pages_render_before_any_run(client, admin_user):
    client.force_login(admin_user)
    assert "Nobody is at risk" in client.get(reverse("at-risk")).content.decode()
    assert "No retention figures yet" in client.get(reverse("analytics")).content.decode()


def test_risk_panel_for_the_360_page(scored, manager_a, manager_b):
    panel = customer_risk_panel(actor=manager_a, customer=scored["alpha"])
    html = render_to_string(panel["template"], {"panel": panel})
    assert "at risk since" in html
    assert "Long-term, Communities" in html
    assert "Retain customers" in html
    assert "P(alive)" in html
    assert customer_risk_panel(actor=manager_b, customer=scored["alpha"]) is None


def test_risk_panel_reads_in_three_queries(scored, manager_a, django_assert_num_queries):
    # where "today" starts (the last night's date); metrics, strategy and the live
    # signals; the open flag with its handling
    with django_assert_num_queries(3):
        panel = customer_risk_panel(actor=manager_a, customer=scored["alpha"])
    assert panel["data"]["strategy"].segment.name == "Subscribers"
    assert panel["data"]["open_flag"].raised_on == RUN


def test_risk_panel_without_flag_strategy_or_segment(scored, manager_a):
    # the steady buyer has no open flag; then neither a strategy nor a segment
    steady = scored["steady"]
    panel = customer_risk_panel(actor=manager_a, customer=steady)
    html = render_to_string(panel["template"], {"panel": panel})
    assert panel["data"]["open_flag"] is None
    assert "at risk since" not in html
    assert "Retain customers" in html
    RelationshipStrategy.objects.filter(segment=steady.segment).delete()
    assert customer_risk_panel(actor=manager_a, customer=steady)["data"]["strategy"] is None
    steady.segment = None
    steady.save()
    panel = customer_risk_panel(actor=manager_a, customer=steady)
    assert panel["data"]["strategy"] is None
    assert "No relationship strategy" in render_to_string(panel["template"], {"panel": panel})


@pytest.mark.parametrize(
    "model",
    [
        "interaction",
        "relationshipstrategy",
        "strategicassessment",
        "customermetrics",
        "riskflag",
        "modelfit",
        "retentionsnapshot",
        "nightlyrun",
        "defectionreason",
        "defection",
    ],
)
def test_admin_lists_every_analytics_model(client, scored, admin_user, model):
    client.force_login(admin_user)
    response = client.get(reverse(f"admin:relationships_{model}_changelist") + "?q=Alpha")
    assert response.status_code == 200


def test_admin_sets_a_strategy_with_checkboxes(client, admin_user):
    segment = SegmentFactory(name="Walk-ins")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:relationships_relationshipstrategy_add"),
        {
            "segment": segment.pk,
            "relationship_types": ["self_service", "automated_services"],
            "goal": "acquire",
            "rhythm": "fling",
            "cost_to_serve_per_year": "12.50",
            "currency": "EUR",
            "notes": "",
        },
    )
    assert response.status_code == 302
    assert RelationshipStrategy.objects.get(segment=segment).relationship_types == [
        "self_service",
        "automated_services",
    ]


def test_admin_records_a_defection_through_the_service(client, scored, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:relationships_defection_add"),
        {
            "customer": scored["steady"].pk,
            "reason": DefectionReason.objects.get(code="moved").pk,
            "defected_on": "2026-05-20",
            "exit_interview_notes": "Moved abroad.",
        },
    )
    assert response.status_code == 302
    scored["steady"].refresh_from_db()
    assert scored["steady"].status == "defected"


def test_clv_histogram_bins_on_a_1_2_5_scale(admin_user, manager_a):
    from relationships.selectors import clv_histogram

    for clv in ("-5", "15", "19.99", "150"):
        CustomerMetrics.objects.create(
            customer=CustomerFactory(account_manager=manager_a),
            computed_for=RUN,
            purchase_count=2,
            clv_12m=Decimal(clv),
        )
    hist = clv_histogram(actor=admin_user)
    counts = {b["label"]: b["count"] for b in hist["bins"]}
    assert hist["total"] == 4
    assert counts["below 0"] == 1
    assert counts["10 to 20"] == 2
    assert counts["100 to 200"] == 1
    assert counts["50 to 100"] == 0
    assert hist["bins"][-1]["label"] == "100 to 200"  # empty bins past the data are trimmed
