"""The portal's "for you" block: product categories a customer does not buy yet, chosen from
what customers with the same purchases buy (the nightly CategoryAffinity table), with the
reason in words; the book's most popular categories for a customer with nothing to go on.
Two small indexed queries whatever the size of the book."""

from __future__ import annotations

from typing import TypedDict

from django.db.models.functions import Lower, Trim
from django.utils.text import capfirst

from customers.models import Customer, Purchase

from ..models import CategoryAffinity, CategoryReach


class Recommendation(TypedDict):
    category: str
    because: str  # the category the customer buys that it goes with; "" when popular
    reason: str
    lift: float | None


def recommendations_for_customer(*, customer: Customer, limit: int = 3) -> list[Recommendation]:
    mine = set(
        Purchase.objects.filter(customer=customer)
        .exclude(category="")
        .annotate(key=Lower(Trim("category")))
        .values_list("key", flat=True)
        .distinct()
    )
    picked: list[Recommendation] = []
    if mine:
        # A lift above 1: buying one makes buying the other likelier than chance. The first
        # row per category is its strongest reason (rows come by lift, strongest first).
        pairs = (
            CategoryAffinity.objects.filter(category__in=mine, lift__gt=1)
            .exclude(also_bought__in=mine)
            .order_by("-lift", "-customers_both", "also_bought")
        )
        seen: set[str] = set()
        for pair in pairs[: limit * max(len(mine), 1)]:
            if pair.also_bought in seen:
                continue
            seen.add(pair.also_bought)
            picked.append(
                {
                    "category": capfirst(pair.also_bought),
                    "because": capfirst(pair.category),
                    "reason": f"Customers who buy {capfirst(pair.category)} "
                    f"also buy {capfirst(pair.also_bought)}",
                    "lift": pair.lift,
                }
            )
            if len(picked) == limit:
                return picked
    taken = mine | {p["category"].lower() for p in picked}
    for row in CategoryReach.objects.exclude(category__in=taken).order_by("-customers", "category")[
        : limit - len(picked)
    ]:
        picked.append(
            {
                "category": capfirst(row.category),
                "because": "",
                "reason": "Popular with our customers",
                "lift": None,
            }
        )
    return picked
