"""The ledger checked against the cached figures (the loyalty_audit command and tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ..models import LedgerEntry, Membership

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class LedgerTotals(TypedDict):
    ledger_balance: int
    ledger_pending: int
    lots: int


def ledger_drift() -> QuerySet[WithAnnotations[Membership, LedgerTotals]]:
    """Memberships whose cached figures disagree with their ledger (set-based)."""

    def total(field: str, **filters):
        return Coalesce(
            Subquery(
                LedgerEntry.objects.filter(membership=OuterRef("pk"), **filters)
                .order_by()
                .values("membership")
                .annotate(s=Sum(field))
                .values("s")
            ),
            Value(0),
        )

    return (
        Membership.objects.annotate(
            ledger_balance=total("points", pending_until__isnull=True),
            ledger_pending=total("points", pending_until__isnull=False),
            lots=total("remaining", pending_until__isnull=True),
        )
        .filter(
            ~Q(balance=F("ledger_balance"))
            | ~Q(pending_points=F("ledger_pending"))
            | ~Q(balance=F("lots"))
        )
        .select_related("program", "customer")
    )
