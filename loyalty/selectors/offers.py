"""Offer reads: who an offer targets, which offers a customer may use, has used or was
handed, what the program page counts, and who may see which hand-outs and uses.

Targeting, in one place for every reader: an offer is for a customer when every target it
sets matches (segment, tier of any of their memberships, bought the category X, never bought
the category Y; categories compared without case). *Eligible* adds what makes it usable
today: active, within its dates, not used up in total nor by this customer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from customers.models import Customer, Purchase, User

from ..models import Membership, Offer, OfferGrant, OfferReach, OfferRedemption, Program
from .access import customers_in_reach


def _uses(**filters: Any) -> Coalesce:
    rows = (
        OfferRedemption.objects.filter(offer=OuterRef("pk"), **filters)
        .order_by()
        .values("offer")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def _offers_seen_by(
    *, customer: Customer, day: dt.date, tier_ids: Iterable[int] | None = None
) -> tuple[QuerySet[Offer], Q]:
    """Every offer, annotated with this customer's uses and hand-out, and the condition
    that makes one eligible for them today. `tier_ids`: the customer's tiers when the
    caller has read the memberships already (spares a query)."""
    tiers: Any = tier_ids
    if tiers is None:
        tiers = Membership.objects.filter(customer=customer, tier__isnull=False).values("tier")
    bought = Purchase.objects.filter(
        customer=customer, category__iexact=OuterRef("bought_category")
    )
    not_bought = Purchase.objects.filter(
        customer=customer, category__iexact=OuterRef("not_bought_category")
    )
    grant = OfferGrant.objects.filter(offer=OuterRef("pk"), customer=customer)
    offers = Offer.objects.annotate(
        used_total=_uses(),
        used_mine=_uses(customer=customer),
        granted_at=Subquery(grant.values("granted_at")[:1]),
        granted_by_first=Subquery(grant.values("granted_by__first_name")[:1]),
        granted_by_last=Subquery(grant.values("granted_by__last_name")[:1]),
    )
    eligible = (
        Q(is_active=True)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        & (Q(segment__isnull=True) | Q(segment_id=customer.segment_id))
        & (Q(tier__isnull=True) | Q(tier__in=tiers))
        & (Q(bought_category="") | Exists(bought))
        & (Q(not_bought_category="") | ~Exists(not_bought))
        & (Q(usage_limit__isnull=True) | Q(used_total__lt=F("usage_limit")))
        & Q(used_mine__lt=F("per_customer_limit"))
    )
    return offers, eligible


def offers_for_customer(
    *, customer: Customer, on: dt.date | None = None, tier_ids: Iterable[int] | None = None
) -> QuerySet[Offer]:
    """Offers targeted at this customer and usable today (not used up), the ones their
    account manager handed them first."""
    offers, eligible = _offers_seen_by(
        customer=customer, day=on or timezone.localdate(), tier_ids=tier_ids
    )
    return offers.filter(eligible).order_by(F("granted_at").desc(nulls_last=True), "name")


def customer_offers(
    *, customer: Customer, tier_ids: Iterable[int] | None = None, on: dt.date | None = None
) -> dict[str, list[Offer]]:
    """The customer page's offers, in one query: those the customer may use today and those
    they used (each offer carries `used_mine`, `granted_at` and who handed it)."""
    offers, eligible = _offers_seen_by(
        customer=customer, day=on or timezone.localdate(), tier_ids=tier_ids
    )
    rows: list[Any] = list(
        offers.annotate(eligible=ExpressionWrapper(eligible, output_field=BooleanField()))
        .filter(Q(eligible=True) | Q(used_mine__gt=0))
        .select_related("tier", "segment")
        .order_by("name")
    )
    return {
        "eligible": [o for o in rows if o.eligible],
        "used": [o for o in rows if o.used_mine],
    }


def _targeted(offer: Offer) -> Q:
    """The offer's targets as a condition on a customer row."""
    condition = Q()
    if offer.segment_id:
        condition &= Q(segment_id=offer.segment_id)
    if offer.tier_id:
        condition &= Q(
            Exists(Membership.objects.filter(customer=OuterRef("pk"), tier_id=offer.tier_id))
        )
    if offer.bought_category:
        condition &= Q(
            Exists(
                Purchase.objects.filter(
                    customer=OuterRef("pk"), category__iexact=offer.bought_category
                )
            )
        )
    if offer.not_bought_category:
        condition &= Q(
            ~Exists(
                Purchase.objects.filter(
                    customer=OuterRef("pk"), category__iexact=offer.not_bought_category
                )
            )
        )
    return condition


def offer_audience(*, offer: Offer) -> QuerySet[Customer]:
    """The customers an offer targets, whatever its dates and limits."""
    return Customer.objects.filter(_targeted(offer))


def offer_reach_count(*, offer: Offer) -> tuple[int, int]:
    """(customers reached, customers who used it): reached is everyone the offer targets,
    was handed to or was used by (who used it may since have left the target: bought Y).
    Those outside the target are counted from the short lists of hand-outs and uses, so no
    statement ORs subqueries over the whole book (PostgreSQL scans it row by row then)."""
    granted = OfferGrant.objects.filter(offer=offer).values("customer")
    used = OfferRedemption.objects.filter(offer=offer).values("customer")
    touched = [
        Customer.objects.filter(pk__in=granted),
        Customer.objects.filter(pk__in=used).exclude(pk__in=granted),
    ]
    outside = sum(qs.count() - qs.filter(_targeted(offer)).count() for qs in touched)
    reached = offer_audience(offer=offer).count() + outside
    return reached, Customer.objects.filter(pk__in=used).count()


def _with_counts(offers: QuerySet[Offer]) -> list[Offer]:
    """Live counts per offer (`uses`, `customers_used`, `handed_out`, `handed_used`: handed
    out and used) and last night's count as `counted` (an OfferReach, None before the first
    night). One query whatever the number of offers."""
    handed = OfferGrant.objects.filter(offer=OuterRef("pk"))
    handed_used = OfferGrant.objects.filter(
        offer=OuterRef("pk"), customer__offer_redemptions__offer=OuterRef("pk")
    )
    redemptions = OfferRedemption.objects.filter(offer=OuterRef("pk"))

    def count(qs: QuerySet[Any], field: str) -> Coalesce:
        rows = qs.order_by().values("offer").annotate(n=Count(field, distinct=True)).values("n")
        return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

    rows: list[Any] = list(
        offers.select_related("segment", "tier", "reach").annotate(
            uses=count(redemptions, "id"),
            customers_used=count(redemptions, "customer"),
            handed_out=count(handed, "customer"),
            handed_used=count(handed_used, "customer"),
        )
    )
    for offer in rows:
        offer.counted = offer_reach_of(offer)
    return rows


def program_offers(*, program: Program) -> list[Offer]:
    """The offers a program page lists, with their counts: the program's own, its tiers',
    and those tied to no program."""
    return _with_counts(
        Offer.objects.filter(
            Q(program=program) | Q(tier__program=program) | Q(program__isnull=True, tier=None)
        ).order_by("-is_active", "name")
    )


def offer_stats(*, offer: Offer) -> Offer:
    """One offer with the counts the program page shows (for the API)."""
    return _with_counts(Offer.objects.filter(pk=offer.pk))[0]


def offer_get(*, actor: User, pk: Any) -> Offer:
    """Any offer, for staff (offers are the company's configuration, not a customer's)."""
    if not (actor.is_authenticated and actor.is_staff_member):
        raise Http404("No such offer.")
    try:
        return Offer.objects.get(pk=pk)
    except (Offer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such offer.") from exc


def offer_grants_visible_to(actor: User) -> QuerySet[OfferGrant]:
    """Staff: the hand-outs to the customers they see; a customer: their own."""
    return OfferGrant.objects.filter(customer__in=customers_in_reach(actor)).select_related(
        "offer", "customer", "granted_by"
    )


def offer_redemptions_visible_to(actor: User) -> QuerySet[OfferRedemption]:
    return OfferRedemption.objects.filter(customer__in=customers_in_reach(actor)).select_related(
        "offer", "customer"
    )


def offer_reach_of(offer: Offer) -> OfferReach | None:
    try:
        return offer.reach
    except OfferReach.DoesNotExist:
        return None


def with_retention(redemptions: QuerySet[OfferRedemption]) -> QuerySet[OfferRedemption]:
    """Annotate `bought_again`: did the customer buy again after using the offer (retained)."""
    later = Purchase.objects.filter(
        customer=OuterRef("customer"), occurred_at__gt=OuterRef("redeemed_at")
    )
    return redemptions.select_related("customer").annotate(bought_again=Exists(later))
