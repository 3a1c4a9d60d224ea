"""What the audit log (django-auditlog) records of this app: changes to customers and to
account-manager assignments, with the user who made them (crm.middleware sets the actor
for pages, API and admin; Celery and nightly writes have none, "system").

auditlog listens to model signals, so only writes through `save()` and `delete()` are
recorded: `bulk_create` and queryset `update()` (imports, the nightly run, bench seeding)
are not. docs/admin.md says which writes those are."""

from collections.abc import Collection

from auditlog.registry import auditlog
from django.db import models

from .models import AccountManagerAssignment, Customer


def own_fields(model: type[models.Model], *, leave_out: Collection[str] = ()) -> list[str]:
    """The model's own columns: left to itself auditlog also writes every reverse relation
    into a creation's entry ("relationships.LadderSuggestion.None")."""
    return [f.name for f in model._meta.concrete_fields if f.name not in leave_out]


def register() -> None:
    # updated_at changes on every save and says nothing an entry's time does not.
    auditlog.register(
        Customer,
        include_fields=own_fields(Customer, leave_out={"updated_at"}),
        m2m_fields={"tags"},
        # The channel flags' own labels ("E-mail") read as the address out of the form.
        mapping_fields={
            f.name: f"May contact by {str(f.verbose_name).lower()}"
            for f in Customer._meta.concrete_fields
            if f.name in Customer.CHANNEL_FIELDS
        },
    )
    auditlog.register(AccountManagerAssignment, include_fields=own_fields(AccountManagerAssignment))
