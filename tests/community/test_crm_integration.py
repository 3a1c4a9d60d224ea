"""The community inside the CRM: forum posts and accepted answers on the staff timeline,
counted as community activity, stored by the nightly run as an engagement figure that
lowers the risk score, read again by incremental nights, and suggesting a ladder move."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from relationships.community import selectors, services
from relationships.community.models import Post
from relationships.models import CustomerMetrics, LadderSuggestion
from relationships.nightly import nightly_run, run_date_as_of
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory

TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def answered(community, manager_a):
    """Ben answers Ann's question, Ann accepts it; Ben's customer is in manager A's book."""
    Customer.objects.filter(pk=community.customer_b.pk).update(account_manager=manager_a)
    question = community.topics["customers"]
    answer = services.post_create(
        actor=community.user_b, topic=question, body="Update the firmware."
    )
    services.answer_accept(actor=community.user_a, post=answer)
    return answer


def test_a_customers_posts_and_accepted_answer_are_on_their_timeline(
    client, community, answered, manager_a
):
    client.force_login(manager_a)
    page = client.get(reverse("customer-detail", args=[community.customer_b.pk])).content.decode()
    assert "Router keeps restarting" in page  # the topic Ben answered in
    assert "Forum reply" in page
    assert "Accepted answer" in page
    assert reverse("community:topic", args=[answered.topic_id]) in page


def test_posts_and_accepted_answers_count_as_activity(community, answered):
    activity = selectors.community_activity([community.customer_a.pk, community.customer_b.pk])
    ben = activity[community.customer_b.pk]
    assert ben["posts"] == Post.objects.filter(customer=community.customer_b).count()
    assert ben["answers"] == 1
    assert ben["total"] == ben["posts"] + 1
    assert activity[community.customer_a.pk]["answers"] == 0


def lapsed_customer(name: str, segment) -> Customer:
    """A monthly buyer silent for 200 days: at risk on the purchase signals alone."""
    customer = CustomerFactory(name=name, segment=segment)
    for k in range(12):
        PurchaseFactory(
            customer=customer,
            amount=Decimal("100.00"),
            occurred_at=run_date_as_of(TODAY) - dt.timedelta(days=200 + 30 * k),
        )
    return customer


def test_the_nightly_stores_community_activity_and_it_lowers_the_risk_score(community):
    segment = SegmentFactory(name="Monthly")
    quiet = lapsed_customer("Quiet Co", segment)
    helpful = lapsed_customer("Helpful Co", segment)
    helpful.user = community.user_b
    Customer.objects.filter(pk=community.customer_b.pk).update(user=None)
    helpful.save()
    for body in ("First tip", "Second tip", "Third tip"):
        services.post_create(actor=community.user_b, topic=community.topics["customers"], body=body)
    Post.objects.update(created_at=run_date_as_of(TODAY) - dt.timedelta(hours=12))

    nightly_run(run_date=TODAY)

    quiet_m = CustomerMetrics.objects.get(customer=quiet)
    helpful_m = CustomerMetrics.objects.get(customer=helpful)
    assert quiet_m.community_90d == 0
    assert helpful_m.community_90d == 3
    assert quiet_m.risk_score > 10
    # 5 points each, at most 10, taken away from the same purchase history's score.
    assert helpful_m.risk_score == quiet_m.risk_score - 10
    assert "active in the community: 3 contributions in 90 days (\u221210)" in helpful_m.reasons
    assert not any("community" in r for r in quiet_m.reasons)


@pytest.fixture
def buyers(db):
    """Repeat buyers enough for the purchase model to be fitted (an incremental night
    reuses the full night's fit)."""
    segment = SegmentFactory(name="Buyers")
    for k in range(30):
        customer = CustomerFactory(name=f"Buyer {k}", segment=segment)
        for j in range(k % 5 + 1):
            PurchaseFactory(
                customer=customer,
                occurred_at=run_date_as_of(YESTERDAY) - dt.timedelta(days=20 + 37 * j + 3 * k),
            )


@pytest.mark.postgres(reason="incremental nights need PostgreSQL")
def test_an_incremental_night_reads_new_community_activity(community, buyers, settings):
    settings.CRM_NIGHTLY_ID_MARGIN = 0  # rows written just now are not "maybe late" ones
    nightly_run(run_date=YESTERDAY, mode="full")
    assert CustomerMetrics.objects.get(customer=community.customer_b).community_90d == 0
    post = services.post_create(
        actor=community.user_b, topic=community.topics["customers"], body="Try a reset"
    )
    Post.objects.filter(pk=post.pk).update(created_at=run_date_as_of(TODAY) - dt.timedelta(hours=3))

    run = nightly_run(run_date=TODAY, mode="incremental")

    assert run.mode == "incremental"
    assert CustomerMetrics.objects.get(customer=community.customer_b).community_90d == 1


def test_an_accepted_answer_suggests_the_move_to_supporter(community, answered):
    Post.objects.update(created_at=run_date_as_of(TODAY) - dt.timedelta(days=2))
    nightly_run(run_date=TODAY)

    suggestion = LadderSuggestion.objects.get(customer=community.customer_b)
    assert suggestion.to_stage == "supporter"
    assert "community" in suggestion.reason
