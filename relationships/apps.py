from django.apps import AppConfig


class RelationshipsConfig(AppConfig):
    name = "relationships"
    verbose_name = "Relationships"

    def ready(self) -> None:
        from customers.hooks import provide_defection_import

        from .services import DefectionImportRows

        # A defected row of a customer import says why; this app checks and records it.
        provide_defection_import(DefectionImportRows)
