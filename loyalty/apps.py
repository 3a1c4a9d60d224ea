from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from customers.hooks import on_customers_merged, on_purchase_recorded

        from . import audit
        from .services import points_earn_for_purchase
        from .services.merge import memberships_merge

        # Runs inside the purchase's own transaction: points commit or roll back with it.
        on_purchase_recorded(points_earn_for_purchase)
        audit.register()
        # Runs inside the merge's own transaction: one membership per program survives.
        on_customers_merged(memberships_merge)
