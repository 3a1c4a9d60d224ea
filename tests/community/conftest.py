"""A small community: four categories (public, customers only, one segment, one tier),
two customer users (A in the segment, B holding the tier), staff, and a topic in each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from customers.models import Customer, User
from relationships.community import services
from relationships.community.models import Category, CategoryAccess, Topic
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    ProgramFactory,
    SegmentFactory,
    TierFactory,
    UserFactory,
)


@dataclass
class Community:
    user_a: User
    user_b: User
    customer_a: Customer
    customer_b: Customer
    public: Category
    customers: Category
    segment: Category
    tier: Category
    topics: dict[str, Topic]


@pytest.fixture(autouse=True)
def _community_settings(settings):
    # Most tests are about something else than the flood guard and the approval of first
    # posts; the tests for those turn them back on.
    settings.CRM_COMMUNITY_HOLD_FIRST_POSTS = 0
    settings.CRM_COMMUNITY_POSTS_PER_MINUTE = 1000


@pytest.fixture
def community(db, manager_a, admin_user) -> Community:
    enterprise = SegmentFactory(name="Enterprise")
    retail = SegmentFactory(name="Retail")
    user_a = UserFactory(username="ann", role="customer", first_name="Ann", last_name="Alpha")
    user_b = UserFactory(username="ben", role="customer", first_name="Ben", last_name="Beta")
    customer_a = CustomerFactory(name="Alpha Ltd", segment=enterprise, user=user_a)
    customer_b = CustomerFactory(name="Beta Ltd", segment=retail, user=user_b)
    program = ProgramFactory(name="Club")
    gold = TierFactory(program=program, name="Gold")
    MembershipFactory(program=program, customer=customer_b, tier=gold)
    public = Category.objects.create(
        name="Announcements", slug="announcements", access=CategoryAccess.PUBLIC
    )
    customers = Category.objects.create(name="Help", slug="help", access=CategoryAccess.CUSTOMERS)
    segment = Category.objects.create(
        name="Enterprise corner", slug="enterprise", access=CategoryAccess.RESTRICTED
    )
    segment.segments.add(enterprise)
    tier = Category.objects.create(
        name="Gold lounge", slug="gold", access=CategoryAccess.RESTRICTED
    )
    tier.tiers.add(gold)
    topics = {
        "public": services.topic_create(
            actor=admin_user, category=public, title="Welcome all", body="Hello **world**"
        ),
        "customers": services.topic_create(
            actor=user_a,
            category=customers,
            title="Router keeps restarting",
            body="Any idea?",
            kind="question",
        ),
        "segment": services.topic_create(
            actor=user_a, category=segment, title="Enterprise SSO", body="How do you set up SSO?"
        ),
        "tier": services.topic_create(
            actor=user_b, category=tier, title="Gold perks", body="Which perks do you use?"
        ),
    }
    return Community(
        user_a, user_b, customer_a, customer_b, public, customers, segment, tier, topics
    )


@pytest.fixture
def as_user():
    def login(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return login
