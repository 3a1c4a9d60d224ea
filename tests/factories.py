import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import AccountManagerAssignment, Customer, Purchase, Segment, User
from relationships.models import FollowUp, Interaction

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = "account_manager"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Segment {n}")
    inactivity_days = 365


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Faker("company")
    email = factory.Faker("company_email")
    phone = factory.Faker("phone_number")
    segment = factory.SubFactory(SegmentFactory)
    stage = "customer"
    status = "active"
    acquired_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=400))
    account_manager = None

    @factory.post_generation
    def assignment(obj, create, extracted, **kwargs):
        if create and obj.account_manager_id:
            AccountManagerAssignment.objects.create(
                customer=obj, account_manager=obj.account_manager, reason="Initial assignment."
            )


class PurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchase

    customer = factory.SubFactory(CustomerFactory)
    reference = factory.Sequence(lambda n: f"INV-{n:06d}")
    amount = Decimal("120.00")
    currency = "EUR"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))
    product = "Widget"
    category = "hardware"


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    author = factory.SubFactory(UserFactory)
    channel = "phone"
    kind = "check_in"
    subject = factory.Sequence(lambda n: f"Call number {n}")
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))

    @factory.post_generation
    def follow_up(obj, create, extracted, **kwargs):
        """An interaction that asks for a follow-up has its FollowUp, as interaction_log
        makes it: assigned to the customer's manager (else the author). Pass
        `follow_up__done_at=...` for a done one."""
        if not create or obj.follow_up_on is None:
            return
        done_at = kwargs.get("done_at")
        FollowUp.objects.create(
            customer=obj.customer,
            assignee=kwargs.get("assignee") or obj.customer.account_manager or obj.author,
            due_on=obj.follow_up_on,
            what=obj.subject,
            interaction=obj,
            created_by=obj.author,
            done_at=done_at,
            done_by=obj.author if done_at else None,
        )


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.LazyAttribute(lambda o: o.customer.account_manager)
    created_by = factory.LazyAttribute(lambda o: o.assignee)
    due_on = factory.LazyFunction(timezone.localdate)
    what = factory.Sequence(lambda n: f"Call back {n}")


# --- Loyalty --------------------------------------------------------------------------
from loyalty.models import EarningRule, Membership, Program, Reward, Tier  # noqa: E402


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Programme {n}")
    points_name = "points"
    currency = "EUR"
    points_per_unit = Decimal("1")
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=3650))
    join_on_first_purchase = True


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    threshold = Decimal("0")
    multiplier = Decimal("1")


class EarningRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarningRule

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = "per_money"
    priority = factory.Sequence(lambda n: n + 1)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    program = factory.SubFactory(ProgramFactory)
    customer = factory.SubFactory(CustomerFactory)


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Reward {n}")
    cost = 100


# --- Relationship strategies and at-risk flags (relationships analytics) ----------------
from relationships.models import RelationshipStrategy, RiskFlag  # noqa: E402


class RelationshipStrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelationshipStrategy
        django_get_or_create = ("segment",)

    segment = factory.SubFactory(SegmentFactory)
    relationship_types = factory.LazyFunction(lambda: ["long_term", "personal_assistance"])
    goal = "retain"
    rhythm = "marriage"
    expected_gap_days = 30
    cost_to_serve_per_year = Decimal("120.00")


class RiskFlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskFlag

    customer = factory.SubFactory(CustomerFactory)
    account_manager = factory.LazyAttribute(lambda f: f.customer.account_manager)
    raised_on = factory.LazyFunction(timezone.localdate)
    score = 75
    reasons = factory.LazyFunction(
        lambda: ["no purchase for 3.0x their usual gap (90 days; usually 30)"]
    )
    value_at_risk = Decimal("500.00")


# --- Ladder suggestions, defections, corrective plans ----------------------------------
from relationships.models import (  # noqa: E402
    CorrectiveAction,
    CorrectivePlan,
    Defection,
    DefectionReason,
    LadderSuggestion,
)


class LadderSuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LadderSuggestion

    customer = factory.SubFactory(CustomerFactory, stage="customer")
    from_stage = factory.LazyAttribute(lambda s: s.customer.stage)
    to_stage = "client"
    rule = "repeat_purchases"
    reason = "2 purchases (a client buys again)"
    created_on = factory.LazyFunction(timezone.localdate)


class DefectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Defection

    customer = factory.SubFactory(CustomerFactory)
    reason = factory.LazyFunction(lambda: DefectionReason.objects.get(code="price"))
    defected_on = factory.LazyFunction(timezone.localdate)
    recorded_by = factory.LazyAttribute(
        lambda d: d.customer.account_manager or UserFactory(role="admin")
    )


class CorrectivePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CorrectivePlan

    title = factory.Sequence(lambda n: f"Plan {n}")
    owner = factory.SubFactory(UserFactory, role="admin")
    created_by = factory.LazyAttribute(lambda p: p.owner)
    status = "draft"


class CorrectiveActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CorrectiveAction

    plan = factory.SubFactory(CorrectivePlanFactory)
    description = factory.Sequence(lambda n: f"Action {n}")
    owner = factory.SubFactory(UserFactory, role="account_manager")
