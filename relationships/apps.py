from django.apps import AppConfig


class RelationshipsConfig(AppConfig):
    name = "relationships"
    verbose_name = "Relationships"

    def ready(self) -> None:
        from customers.filters import ListExtension, register_list_extension
        from customers.hooks import on_customers_merged, provide_defection_import

        from .selectors.retention import customers_behind, customers_behind_spec
        from .services import DefectionImportRows
        from .services.merge import relationships_merge

        # A defected row of a customer import says why; this app checks and records it.
        provide_defection_import(DefectionImportRows)
        # Runs inside the merge's transaction: one open flag, suggestion, assessment.
        on_customers_merged(relationships_merge)
        # The customer list (page, export, API) filters by "the customers behind a
        # retention figure": ?retention=lost&period=month&period_start=2026-03-01&cut=all
        register_list_extension(
            ListExtension(
                params=("retention", "period", "period_start", "cut"),
                resolve=lambda v, actor: customers_behind_spec(
                    actor=actor,
                    figure=v["retention"],
                    period_kind=v["period"],
                    period_start=v["period_start"],
                    cut=v["cut"],
                ),
                apply=customers_behind,
            )
        )
