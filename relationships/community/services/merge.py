"""Two customers merged (customers.hooks): community rows follow the survivor. A review
is one per customer and product, so where both reviewed the same product the survivor's
review stays and the absorbed one's is removed (the merge notes say which)."""

from __future__ import annotations

from customers.hooks import MergeContext

from ..models import Review


def community_merge(context: MergeContext) -> None:
    survivor, absorbed = context.survivor, context.absorbed
    products = Review.objects.filter(customer=survivor).values("product")
    doubled = Review.objects.filter(customer=absorbed, product__in=products)
    names = sorted(doubled.values_list("product", flat=True))
    if names:
        doubled.delete()
        context.notes.append(
            "Both reviewed " + ", ".join(names) + "; the survivor's review was kept."
        )
    context.moved["Reviews"] += Review.objects.filter(customer=absorbed).update(customer=survivor)
