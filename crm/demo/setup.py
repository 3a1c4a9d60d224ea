"""The rest of the demo, after `seed_demo` built the book: segment strategies, a loyalty
program with points for past purchases and a few offers, and one nightly run, so every page
has something real to show. Lives in crm because it composes three apps; each step goes through the
apps' own services and is skipped when its data already exists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Role, Segment, User
from loyalty.models import (
    DowngradePolicy,
    EarningRule,
    ExpiryPolicy,
    Offer,
    OfferKind,
    Program,
    Reward,
    RuleKind,
    Tier,
    TierBasis,
)
from loyalty.services import STEPS as LOYALTY_STEPS
from loyalty.services import config_save, nightly_step_run, points_backfill, tiers_recompute
from relationships.models import (
    CorrectivePlan,
    DefectionReason,
    NightlyRun,
    PlanStatus,
    PurchaseRhythm,
    RelationshipGoal,
    RelationshipStrategy,
    RelationshipType,
    RunStatus,
)
from relationships.nightly import nightly_run
from relationships.services import action_add, plan_save, strategy_save

from .community import demo_community
from .support import demo_support

T = RelationshipType
STRATEGIES = {
    # segment: (types, goal, rhythm, expected gap in days, cost to serve per year)
    "Enterprise": (
        [T.DEDICATED_ASSISTANCE, T.LONG_TERM, T.CO_CREATION],
        RelationshipGoal.RETAIN,
        PurchaseRhythm.MARRIAGE,
        60,
        "1200",
    ),
    "SMB": (
        [T.PERSONAL_ASSISTANCE, T.LONG_TERM, T.COMMUNITIES],
        RelationshipGoal.BOOST_SALES,
        PurchaseRhythm.MARRIAGE,
        45,
        "240",
    ),
    "Consumers": (
        [T.SELF_SERVICE, T.AUTOMATED_SERVICES, T.COMMUNITIES],
        RelationshipGoal.RETAIN,
        PurchaseRhythm.MARRIAGE,
        30,
        "12",
    ),
    "Tourists — one-off": (
        [T.TRANSACTIONAL, T.SELF_SERVICE],
        RelationshipGoal.ACQUIRE,
        PurchaseRhythm.FLING,
        None,
        "2",
    ),
    "Partners": (
        [T.DEDICATED_ASSISTANCE, T.CO_CREATION, T.LONG_TERM],
        RelationshipGoal.BOOST_SALES,
        PurchaseRhythm.MARRIAGE,
        30,
        "2400",
    ),
}


TIERS = [
    # name, threshold, multiplier, perks
    ("Member", "0", "1.00", "Points on every purchase."),
    ("Silver", "2000", "1.25", "25% more points; priority support."),
    ("Gold", "10000", "1.50", "50% more points; a named contact; invitations."),
]
REWARDS = [("Coffee voucher", 300), ("Training day", 5000), ("Free month", 12000)]
OFFERS = [
    # name, kind, coupon, tier, bought, not bought, description
    ("Training for hardware buyers", OfferKind.CROSS_SELL, "TRAIN15", None, "hardware",
     "training", "15% off an online course or an onboarding workshop."),
    ("Support plan for software buyers", OfferKind.CROSS_SELL, "SUPPORT10", None, "software",
     "services", "Your first support plan at 10% off."),
    ("Gold members' bundle", OfferKind.BUNDLE, "GOLDBUNDLE", "Gold", "", "",
     "A team licence and a workshop together, one price."),
]  # fmt: skip
PLANS = [
    # title, causes, days since it started (None: a draft), description, actions
    (
        "Answer every support request within a working day",
        ["service"],
        120,
        "Complaints about slow answers are the most common; a one-day pledge with a "
        "named backup for each account manager.",
        ["Name a backup for each account manager", "Weekly review of open requests"],
    ),
    (
        "Renewal pricing for loyal customers",
        ["price", "competitor"],
        None,
        "Customers who leave over price mostly leave at renewal: offer the tier discount "
        "before the renewal date, not after the complaint.",
        ["Draft the renewal offer", "Agree the discount limits with finance"],
    ),
]


def demo_setup(*, actor: User, log: Callable[[str], None] = print) -> None:
    segments = {s.name: s for s in Segment.objects.filter(name__in=STRATEGIES)}
    _strategies(actor=actor, segments=segments)
    log("Relationship strategies: one per segment.")

    if not Program.objects.exists():
        with transaction.atomic():
            program = _program(actor=actor, segments=list(segments.values()))
            _program_catalogue(actor=actor, program=program)
            earned = points_backfill(program=program, actor=actor)
            tiers_recompute(run_date=timezone.localdate())
        log(f"Loyalty program 'KeepCRM Rewards': {earned:,} past purchases earned stars.")

    if not CorrectivePlan.objects.exists():
        plans = _plans(actor=actor)
        log(f"Corrective plans: {plans} for the commonest reasons to leave.")

    demo_community(actor=actor, log=log)
    demo_support(actor=actor, log=log)  # before tonight's run, which counts complaints

    today = timezone.localdate()
    # Tonight's loyalty steps too, so points older than the policy have expired.
    for step in LOYALTY_STEPS:
        nightly_step_run(step=step, run_date=today)
    if not NightlyRun.objects.filter(run_date=today, status=RunStatus.SUCCEEDED).exists():
        run = nightly_run(run_date=today)
        log(
            f"Nightly run of {run.run_date}: {run.rows.get('flags_raised', 0)} customers flagged at risk."
        )


def _strategies(*, actor: User, segments: dict[str, Segment]) -> None:
    """One relationship strategy per demo segment that has none yet."""
    done = set(RelationshipStrategy.objects.values_list("segment__name", flat=True))
    for name, (types, goal, rhythm, gap, cost) in STRATEGIES.items():
        if name in segments and name not in done:
            strategy_save(
                actor=actor,
                segment=segments[name],
                relationship_types=list(types),
                goal=goal,
                rhythm=rhythm,
                expected_gap_days=gap,
                cost_to_serve_per_year=Decimal(cost),
            )


@transaction.atomic
def _plans(*, actor: User) -> int:
    """The demo's corrective plans (the defection report links each reason to them), on
    the causes still in the taxonomy."""
    reasons = {r.code: r for r in DefectionReason.objects.filter(is_active=True)}
    managers = list(User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).order_by("pk"))
    today = timezone.localdate()
    made = 0
    for title, codes, days_ago, description, actions in PLANS:
        causes = [reasons[c] for c in codes if c in reasons]
        if not causes:
            continue
        started = today - dt.timedelta(days=days_ago) if days_ago is not None else None
        plan = plan_save(
            actor=actor,
            title=title,
            owner=actor,
            causes=causes,
            description=description,
            recovery_team=managers[:2],
            status=PlanStatus.ACTIVE if started else PlanStatus.DRAFT,
            started_on=started,
        )
        for k, action in enumerate(actions):
            owner = managers[k % len(managers)] if managers else actor
            action_add(actor=actor, plan=plan, description=action, owner=owner)
        made += 1
    return made


def _program(*, actor: User, segments: list[Segment]) -> Program:
    return config_save(
        actor=actor,
        obj=Program(
            name="KeepCRM Rewards",
            points_name="stars",
            currency="EUR",
            points_per_unit=Decimal("1"),
            starts_on=timezone.localdate().replace(year=timezone.localdate().year - 3),
            join_on_first_purchase=True,
            expiry_policy=ExpiryPolicy.MONTHS_AFTER_EARNING,
            expiry_months=24,
            tier_basis=TierBasis.POINTS_EARNED,
            qualification_days=365,
            downgrade_policy=DowngradePolicy.END_OF_WINDOW,
        ),
        m2m={"eligible_segments": segments},
    )


def _program_catalogue(*, actor: User, program: Program) -> None:
    """The program's tiers, its earning rules and its rewards."""
    for name, threshold, multiplier, perks in TIERS:
        config_save(
            actor=actor,
            obj=Tier(
                program=program,
                name=name,
                threshold=Decimal(threshold),
                multiplier=Decimal(multiplier),
                perks=perks,
            ),
        )
    config_save(
        actor=actor,
        obj=EarningRule(
            program=program,
            name="1 star per euro",
            kind=RuleKind.PER_MONEY,
            priority=10,
            points_per_unit=Decimal("1"),
        ),
    )
    config_save(
        actor=actor,
        obj=EarningRule(
            program=program,
            name="Referral bonus",
            kind=RuleKind.EVENT,
            priority=20,
            event_code="referral",
            points=500,
        ),
    )
    for name, cost in REWARDS:
        config_save(actor=actor, obj=Reward(program=program, name=name, cost=cost))
    tiers = {t.name: t for t in program.tiers.all()}
    for name, kind, coupon, tier, bought, not_bought, description in OFFERS:
        config_save(
            actor=actor,
            obj=Offer(
                program=program,
                name=name,
                kind=kind,
                coupon_code=coupon,
                tier=tiers.get(tier or ""),
                bought_category=bought,
                not_bought_category=not_bought,
                description=description,
            ),
        )


def demo_admin() -> User | None:
    return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()


def has_book() -> bool:
    return Customer.objects.exists()
