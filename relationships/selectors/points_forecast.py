"""The points a loyalty program can expect its members to earn, month by month, from the
figures the nightly run stored, not from a recompute: the builder's preview of the book's
points liability.

A member's expected spend in a month is the purchase days the BG/NBD model expects in it
(the stored 30-, 90- and 365-day expectations, split evenly over months 1, 2-3 and 4-12)
times the member's mean spend per purchase (stored revenue over stored purchases; the
members' mean for a member with none). The metrics keep purchases, not purchase days, so
for customers who buy several things a day this understates the spend of a purchase day.
Points are that spend times the program's rate and the member's tier multiplier; category
multipliers, caps and events are left out, as they depend on what is bought."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Case, DecimalField, F, FloatField, Sum, Value, When
from django.db.models.functions import Cast, Coalesce

from loyalty.models import Membership, Program

DAYS_PER_MONTH = 365.25 / 12


def expected_points_by_month(*, program: Program, today: dt.date) -> dict:
    members = Membership.objects.filter(program=program)
    with_metrics = members.filter(customer__metrics__isnull=False)
    book = with_metrics.aggregate(
        revenue=Coalesce(Sum("customer__metrics__revenue"), Decimal(0)),
        purchases=Coalesce(Sum("customer__metrics__purchase_count"), 0),
    )
    book_mean = float(book["revenue"] / book["purchases"]) if book["purchases"] else 0.0
    m = "customer__metrics__"
    # Each member's mean spend times their tier multiplier: the factor that turns their
    # expected purchases into expected points (before the program's rate).
    weight = Cast(
        Case(
            When(
                **{f"{m}purchase_count__gt": 0},
                then=F(f"{m}revenue") / F(f"{m}purchase_count"),
            ),
            default=Value(Decimal(str(round(book_mean, 2)))),
            output_field=DecimalField(max_digits=16, decimal_places=2),
        )
        * Coalesce(F("tier__multiplier"), Value(Decimal(1))),
        FloatField(),
    )
    sums = with_metrics.aggregate(
        m30=Coalesce(Sum(F(f"{m}expected_purchases_30d") * weight), 0.0),
        m90=Coalesce(Sum(F(f"{m}expected_purchases_90d") * weight), 0.0),
        m365=Coalesce(Sum(F(f"{m}expected_purchases_365d") * weight), 0.0),
    )
    rate = float(program.points_per_unit)
    spread = [
        sums["m30"],
        *[(sums["m90"] - sums["m30"]) / 2] * 2,
        *[(sums["m365"] - sums["m90"]) / 9] * 9,
    ]
    totals = members.aggregate(
        balance=Coalesce(Sum("balance"), 0), pending=Coalesce(Sum("pending_points"), 0)
    )
    liability = totals["balance"] + totals["pending"]
    table = []
    for i, expected in enumerate(spread):
        points = round(max(expected, 0.0) * rate)
        liability += points
        ends = today + dt.timedelta(days=round(DAYS_PER_MONTH * (i + 1)))
        table.append({"month": i + 1, "ends": ends, "points": points, "liability": liability})
    return {
        "members": members.count(),
        "with_figures": with_metrics.count(),
        "balance": totals["balance"],
        "pending": totals["pending"],
        "months": table,
        "max_points": max((row["points"] for row in table), default=0),
    }
