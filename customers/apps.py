from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from . import audit, outbox
        from .tasks import imports_resend

        audit.register()
        outbox.register_resender("imports", imports_resend)
