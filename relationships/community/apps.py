from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "relationships.community"
    label = "community"
    verbose_name = "Community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from customers.hooks import on_customers_merged

        from .services.merge import community_merge

        # Runs inside the merge's transaction: one review per customer and product.
        on_customers_merged(community_merge)
