import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Max
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.demo import demo_admin
from crm.demo.support import STORIES, demo_support
from customers.models import User
from loyalty.models import LoyaltyRun, Membership, Program
from loyalty.services import STEPS as LOYALTY_STEPS
from relationships.community.models import Idea, Post, Review, Topic
from relationships.models import (
    CorrectivePlan,
    CustomerMetrics,
    DefectionReason,
    NightlyRun,
    RelationshipStrategy,
)
from relationships.support.models import SupportMessage, SupportRequest


def test_demo_setup_needs_a_book(db):
    with pytest.raises(CommandError, match="The book is empty"):
        call_command("demo_setup")


def test_demo_setup_completes_the_demo_once(db):
    # given a small seeded book
    call_command("seed_demo", customers=120, seed=7)

    # when the demo is completed twice
    call_command("demo_setup")
    call_command("demo_setup")

    # then every segment has a strategy, one program has members with tiers, and tonight ran
    assert RelationshipStrategy.objects.count() == 5
    program = Program.objects.get()
    members = Membership.objects.filter(program=program)
    assert members.exists()
    assert not members.filter(tier__isnull=True).exists()
    assert members.exclude(tier__name="Member").exists()  # past points lifted some up a tier
    assert NightlyRun.objects.filter(status="succeeded").count() == 1
    assert CustomerMetrics.objects.exists()
    assert LoyaltyRun.objects.filter(status="succeeded").count() == len(LOYALTY_STEPS)
    # and the defection report's reasons have corrective plans to link to, made once
    assert CorrectivePlan.objects.count() == 2
    assert set(CorrectivePlan.objects.values_list("causes__code", flat=True)) == {
        "service",
        "price",
        "competitor",
    }
    # and the community is lived in, once: a solved question, ideas at every stage,
    # approved reviews, nothing left waiting for a moderator, counted by the nightly run
    assert 300 <= Topic.objects.count() <= 400
    assert Post.objects.count() > 2 * Topic.objects.count()
    assert Topic.objects.filter(accepted_post__isnull=False).count() > 10
    assert Post.objects.values("author").distinct().count() > 30
    assert not Post.objects.exclude(status="visible").exists()
    # with every thread's counters as the services would keep them
    counted = Topic.objects.annotate(n=Count("posts"), last=Max("posts__number"))
    assert not counted.exclude(reply_count=F("n") - 1).exists()
    assert not counted.exclude(last_post_number=F("last")).exists()
    assert (
        not Topic.objects.exclude(accepted_post__topic=F("pk"))
        .filter(accepted_post__isnull=False)
        .exists()
    )
    assert set(Idea.objects.values_list("status", flat=True)) == {
        "new",
        "under_review",
        "planned",
        "shipped",
    }
    assert Review.objects.filter(status="approved").exists()
    assert CustomerMetrics.objects.filter(community_90d__gt=0).exists()
    # and support requests in every state, made once through the services: new ones in the
    # unassigned queue and in every manager's queue, staff replies waiting on the customer,
    # rated answers, a complaint with its root cause, and some for the demo customer login
    requests = SupportRequest.objects.all()
    assert requests.count() == len(STORIES)
    assert set(requests.values_list("status", flat=True)) == {"open", "waiting", "resolved"}
    assert requests.filter(status="open", assigned_to__isnull=True).exists()
    for manager in User.objects.filter(role="account_manager"):
        assert requests.filter(status="open", assigned_to=manager).exists(), manager
    assert requests.filter(
        status="waiting", messages__from_staff=True, messages__internal=False
    ).exists()
    assert requests.filter(status="resolved", rating__isnull=False).exists()
    assert requests.filter(
        interaction__kind="complaint", interaction__root_cause__isnull=False
    ).exists()
    assert 2 <= requests.filter(customer__user__username="customer").count() <= 3
    # each on its customer's timeline as opened, its thread in order and in the past
    assert not requests.exclude(interaction__customer=F("customer")).exists()
    assert not requests.exclude(interaction__occurred_at=F("created_at")).exists()
    assert not requests.filter(resolved_at__isnull=False).exclude(status="resolved").exists()
    assert not SupportMessage.objects.filter(created_at__lt=F("request__created_at")).exists()
    assert not SupportMessage.objects.filter(created_at__gt=timezone.now()).exists()
    # and the demo customer finds theirs on the portal's support page
    portal = Client()
    portal.force_login(User.objects.get(username="customer"))
    page = portal.get(reverse("portal-support")).content.decode()
    for subject in requests.filter(customer__user__username="customer").values_list(
        "subject", flat=True
    ):
        assert subject in page


def test_demo_support_leaves_a_complaint_unclassified_when_its_cause_is_retired(db):
    # given a book without the community's logins, and "service" no longer a cause
    call_command("seed_demo", customers=120, seed=7)
    DefectionReason.objects.filter(code="service").update(is_active=False)

    # when the demo's support requests are written
    demo_support(actor=demo_admin(), log=lambda _: None)

    # then every story is written, by customers given a login for it, and the complaints
    # about service wait for a cause while the others have theirs
    assert SupportRequest.objects.count() == len(STORIES)
    assert SupportRequest.objects.filter(customer__user__username__startswith="member").exists()
    complaints = SupportRequest.objects.filter(category="complaint")
    assert complaints.filter(interaction__root_cause__isnull=True).count() == 3
    assert set(
        complaints.exclude(interaction__root_cause=None).values_list(
            "interaction__root_cause__code", flat=True
        )
    ) == {"price", "product_quality"}
