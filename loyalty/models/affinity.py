"""Which product categories go together: computed every night from all purchases, read by
the portal's "for you" block (cross-selling) and by admins choosing an offer's target."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class CategoryReach(models.Model):
    """How many customers bought in a category (lowercased), as of `computed_on`."""

    category = models.CharField(max_length=100, unique=True)
    customers = models.PositiveIntegerField()
    computed_on = models.DateField()

    class Meta:
        ordering = ["-customers", "category"]
        verbose_name_plural = "category reach"

    def __str__(self) -> str:
        return f"{self.category}: {self.customers}"


class CategoryAffinity(models.Model):
    """Customers who buy `category` also buy `also_bought`: how many bought both, and the
    lift (how much likelier buying both is than chance: 1 = unrelated)."""

    category = models.CharField(max_length=100)
    also_bought = models.CharField(max_length=100)
    customers_both = models.PositiveIntegerField()
    lift = models.FloatField()
    computed_on = models.DateField()

    class Meta:
        ordering = ["category", "-lift"]
        verbose_name_plural = "category affinities"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "also_bought"], name="categoryaffinity_pair_unique"
            ),
            models.CheckConstraint(
                condition=~Q(category=F("also_bought")), name="categoryaffinity_two_categories"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.also_bought} (lift {self.lift:.2f})"
