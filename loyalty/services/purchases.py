"""The purchase hook: a recorded purchase joins the programs that enrol on purchase, then
earns and upgrades in every membership, inside the purchase's own transaction.

Its own module because it joins (membership) and earns (earning), and joining pays the
sign-up event through earning."""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.errors import Conflict
from customers.models import Purchase

from ..models import JoinSource, LedgerEntry, Membership, Program
from .earning import earn_event, earn_purchase
from .ledger import lock_memberships
from .membership import membership_join, program_accepts
from .tiers import upgrade_if_qualified


def points_earn_for_purchase(purchase: Purchase) -> list[LedgerEntry]:
    """The purchase hook: runs inside the purchase's transaction. Joins eligible programs
    that enrol on purchase, then earns once per membership (key purchase:<id>)."""
    customer = purchase.customer
    day = timezone.localdate(purchase.occurred_at)
    member_of = set(
        Membership.objects.filter(customer=customer).values_list("program_id", flat=True)
    )
    joinable = (
        Program.objects.filter(join_on_first_purchase=True, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .exclude(pk__in=member_of)
        .prefetch_related("eligible_segments", "tiers")
    )
    for program in joinable:
        if program_accepts(program, customer):
            # A concurrent purchase of the same customer may have joined first: earn below.
            with contextlib.suppress(Conflict):
                membership_join(
                    program=program, customer=customer, source=JoinSource.PURCHASE, on=day
                )
    memberships = lock_memberships(
        Membership.objects.filter(customer=customer).values_list("pk", flat=True)
    )
    first = not Purchase.objects.filter(customer=customer).exclude(pk=purchase.pk).exists()
    entries = []
    for membership in memberships.values():
        membership.customer = customer
        if not membership.program.is_active_on(day):
            continue
        entry = earn_purchase(membership, purchase, day)
        if entry:
            entries.append(entry)
        if first:
            earn_event(membership=membership, event_code="first_purchase", key="first", day=day)
        upgrade_if_qualified(membership, day)
    return entries


def earn_missing_for_purchases(*, purchases: QuerySet[Purchase]) -> int:
    """Re-run earning over purchases (a retried task, a backfill): keys make it a no-op
    for purchases that already earned."""
    count = 0
    for purchase in purchases.select_related("customer"):
        with transaction.atomic():
            count += len(points_earn_for_purchase(purchase))
    return count
