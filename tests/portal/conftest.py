"""Two customers with a login each, X (Xavier) and Y (Yvonne), holding one of everything
the portal shows, so a test can ask "does X see anything of Y's?"."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Customer, User
from loyalty.models import Membership, Offer, OfferGrant, Redemption, Reward
from loyalty.services import offer_grant, points_adjust, points_redeem
from relationships.community.models import Idea, Review
from relationships.support.models import SupportRequest
from relationships.support.services import support_request_open
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    MembershipFactory,
    ProgramFactory,
    PurchaseFactory,
    RewardFactory,
    SegmentFactory,
    UserFactory,
)


@dataclass
class Side:
    user: User
    customer: Customer
    membership: Membership
    reward: Reward  # in a program only this side belongs to
    redemption: Redemption
    offer: Offer  # targeted at this side's segment only
    grant: OfferGrant  # the offer, handed to this side by their account manager
    support_request: SupportRequest  # with an attachment
    markers: tuple[str, ...]  # strings that appear only in this side's data


def _side(*, username, name, email, ref, coupon, manager, program) -> Side:
    user = UserFactory(username=username, role="customer", first_name=name.split()[0])
    segment = SegmentFactory(name=f"Segment of {name}")
    customer = CustomerFactory(
        user=user, name=name, email=email, account_manager=manager, segment=segment
    )
    PurchaseFactory(customer=customer, reference=ref, product=f"Product of {name}")
    InteractionFactory(
        customer=customer, author=manager, subject="Check-in", notes=f"Secret note on {name}"
    )
    membership = MembershipFactory(program=program, customer=customer)
    points_adjust(membership=membership, points=1000, reason="Welcome", actor=manager)
    own_program = ProgramFactory(name=f"Club {username}")
    own_membership = MembershipFactory(program=own_program, customer=customer)
    points_adjust(membership=own_membership, points=500, reason="Welcome", actor=manager)
    reward = RewardFactory(program=own_program, name=f"Reward of {name}", cost=100)
    redemption = points_redeem(
        membership=own_membership, reward=reward, actor=user, idempotency_key=f"k-{username}"
    )
    offer = Offer.objects.create(name=f"Offer for {name}", coupon_code=coupon, segment=segment)
    grant, _ = offer_grant(offer=offer, customer=customer, actor=manager)
    Idea.objects.create(customer=customer, author=user, title=f"Idea of {name}", body="x")
    Review.objects.create(
        customer=customer, author=user, product=f"Product of {name}", rating=4, body="y"
    )
    support_request = support_request_open(
        customer=customer,
        author=user,
        category="order",
        subject=f"Parcel of {name}",
        body=f"Where is the parcel of {name}?",
        attachment=SimpleUploadedFile("receipt.txt", f"Receipt of {name}".encode()),
    )
    membership.refresh_from_db()
    return Side(
        user=user,
        customer=customer,
        membership=membership,
        reward=reward,
        redemption=redemption,
        offer=offer,
        grant=grant,
        support_request=support_request,
        markers=(
            name,
            email,
            ref,
            coupon,
            redemption.code,
            f"Reward of {name}",
            f"Parcel of {name}",
        ),
    )


@pytest.fixture
def shared_program(db):
    return ProgramFactory(name="Club", points_name="stars")


@pytest.fixture
def x(manager_a, shared_program) -> Side:
    return _side(
        username="xavier",
        name="Xavier Xample",
        email="xavier@example.com",
        ref="INV-XMARK",
        coupon="XONLY",
        manager=manager_a,
        program=shared_program,
    )


@pytest.fixture
def y(manager_b, shared_program) -> Side:
    return _side(
        username="yvonne",
        name="Yvonne Yarrow",
        email="yvonne@example.com",
        ref="INV-YMARK",
        coupon="YONLY",
        manager=manager_b,
        program=shared_program,
    )


def leaks(body: str, side: Side) -> list[str]:
    return [m for m in side.markers if m in body]
