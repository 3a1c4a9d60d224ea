"""Offers: an account manager hands one to a customer; a customer (or staff for them) uses
one; the nightly run counts how far each offer got."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from customers.errors import Conflict, NotAllowed
from customers.models import Customer, Purchase, User
from customers.selectors import customers_visible_to

from ..models import Offer, OfferGrant, OfferReach, OfferRedemption
from ..selectors import offer_reach_count, offers_for_customer
from ._common import check_member_or_staff


@transaction.atomic
def offer_grant(*, offer: Offer, customer: Customer, actor: User) -> tuple[OfferGrant, bool]:
    """Hand an offer to a customer of the actor's book. Only an offer the customer may use
    today can be handed (its targets are the admins' rule; the account manager chooses among
    them). Giving it again returns the first hand-out: (grant, created)."""
    if not (actor.is_authenticated and actor.is_staff_member) or not (
        customers_visible_to(actor).filter(pk=customer.pk).exists()
    ):
        raise NotAllowed("You can only hand offers to customers in your book.", field="customer")
    # The offer row is locked as for a use, so a hand-out and the last allowed use cannot
    # pass each other, and two hand-outs of it queue.
    locked = Offer.objects.select_for_update().get(pk=offer.pk)
    done = OfferGrant.objects.filter(offer=locked, customer=customer).first()
    if done is not None:
        return done, False
    if not offers_for_customer(customer=customer).filter(pk=locked.pk).exists():
        raise Conflict(
            f"{customer} cannot use the offer {locked.name} (not targeted at them, outside its "
            "dates, or used up), so it cannot be handed to them.",
            field="offer",
        )
    try:
        with transaction.atomic():
            grant = OfferGrant.objects.create(offer=locked, customer=customer, granted_by=actor)
    except IntegrityError:
        # SQLite has no row lock: another request handed it at the same moment.
        return OfferGrant.objects.get(offer=locked, customer=customer), False
    return grant, True


@transaction.atomic
def offer_redeem(
    *, offer: Offer, customer: Customer, actor: User, purchase: Purchase | None = None
) -> OfferRedemption:
    check_member_or_staff(actor, customer)
    locked = Offer.objects.select_for_update().get(pk=offer.pk)
    if not offers_for_customer(customer=customer).filter(pk=locked.pk).exists():
        raise Conflict(f"{customer} cannot use the offer {offer.name} (not targeted or used up).")
    return OfferRedemption.objects.create(
        offer=locked,
        customer=customer,
        purchase=purchase,
        actor=actor if actor.is_authenticated else None,
    )


def offer_reach_refresh(*, run_date: dt.date) -> int:
    """Count, for every offer, the customers it reached and those who used it (the program
    page's conversion). One set-based count per offer: offers are a short list configured
    by admins, the customers are the long one."""
    counted = 0
    for offer in Offer.objects.order_by("pk"):
        reached, used = offer_reach_count(offer=offer)
        OfferReach.objects.update_or_create(
            offer=offer, defaults={"reached": reached, "used": used, "computed_on": run_date}
        )
        counted += 1
    return counted
