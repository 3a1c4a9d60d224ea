"""The audit log of one customer, as admins read it on the customer page: who changed what
on the customer, its account-manager assignments and its points adjustments.

The entries are django-auditlog's (customers/audit.py and loyalty/audit.py say what is
recorded); this module only selects a customer's entries and names their values. It
lives in crm because it reads both customers and loyalty."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.models import AccountManagerAssignment, Customer, User
from loyalty.models import EntryKind, LedgerEntry

# What each recorded model is called on the page.
SUBJECTS: dict[type[models.Model], str] = {
    Customer: "Customer",
    AccountManagerAssignment: "Account-manager assignment",
    LedgerEntry: "Points adjustment",
}
# Fields left off the page: the row's own id and keys that say nothing the entry does not.
HIDDEN: dict[type[models.Model], set[str]] = {
    Customer: {"id", "created_at"},
    AccountManagerAssignment: {"id", "customer"},
}
# A points adjustment shows what an admin typed, not the ledger's bookkeeping.
SHOWN: dict[type[models.Model], set[str]] = {
    LedgerEntry: {"kind", "points", "reason", "effective_on", "expires_on"}
}
EMPTY = "—"
ACTIONS = {
    LogEntry.Action.CREATE: "created",
    LogEntry.Action.UPDATE: "changed",
    LogEntry.Action.DELETE: "deleted",
    LogEntry.Action.ACCESS: "viewed",
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    entry: LogEntry
    subject: str
    action: str
    actor: str
    fields: list[FieldChange]


def customer_changes(*, actor: User, customer: Customer) -> QuerySet[LogEntry]:
    """The log entries of the customer, of its assignments and of its points adjustments,
    newest first. Admins only: the log names who did what across the whole book."""
    if not actor.is_admin:
        raise PermissionDenied("Only an admin may read the audit log.")
    types = ContentType.objects.get_for_models(Customer, AccountManagerAssignment, LedgerEntry)
    assignments = AccountManagerAssignment.objects.filter(customer=customer).values("pk")
    adjustments = LedgerEntry.objects.filter(
        membership__customer=customer, kind=EntryKind.ADJUST
    ).values("pk")
    return (
        LogEntry.objects.filter(
            Q(content_type=types[Customer], object_id=customer.pk)
            | Q(content_type=types[AccountManagerAssignment], object_id__in=assignments)
            | Q(content_type=types[LedgerEntry], object_id__in=adjustments)
        )
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )


def change_rows(entries: list[LogEntry]) -> list[Change]:
    """Entries as the page shows them: field labels, choice labels, and related rows by
    name, looked up in one query per related model for the whole page."""
    names = _related_names(entries)
    rows = []
    for entry in entries:
        model = entry.content_type.model_class()
        order = _field_order(model)
        fields = [
            _field_change(model, name, values, names)
            for name, values in sorted(
                (entry.changes or {}).items(), key=lambda item: order.get(item[0], len(order))
            )
            if _shown(model, name)
        ]
        if entry.action == LogEntry.Action.CREATE:
            # A new row lists what was filled in, not every empty field.
            fields = [f for f in fields if f is not None and f.after != EMPTY]
        rows.append(
            Change(
                entry=entry,
                subject=SUBJECTS.get(model, str(entry.content_type)) if model else "",
                action=ACTIONS.get(entry.action, ""),
                actor=str(entry.actor) if entry.actor else (entry.actor_email or "system"),
                fields=[f for f in fields if f is not None],
            )
        )
    return rows


def _field_order(model: type[models.Model] | None) -> dict[str, int]:
    """The model's own field order (auditlog stores the changes in no set order)."""
    if model is None:
        return {}
    return {f.name: i for i, f in enumerate(model._meta.get_fields())}


def _shown(model: type[models.Model] | None, name: str) -> bool:
    if model in SHOWN:
        return name in SHOWN[model]
    return model is None or name not in HIDDEN.get(model, set())


def _relation(model: type[models.Model] | None, name: str) -> Any:
    try:
        return model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        return None


def _model_field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _related_names(entries: list[LogEntry]) -> dict[tuple[Any, str], str]:
    wanted: dict[Any, set[str]] = defaultdict(set)
    for entry in entries:
        model = entry.content_type.model_class()
        for name, values in (entry.changes or {}).items():
            field = _model_field(model, name)
            if field is None or not (field.many_to_one or field.one_to_one):
                continue
            if isinstance(values, list) and _shown(model, name):
                wanted[field.related_model].update(str(v) for v in values if v not in (None, ""))
    names: dict[tuple[Any, str], str] = {}
    for related, pks in wanted.items():
        for pk, obj in related._default_manager.in_bulk(list(pks)).items():
            names[(related, str(pk))] = str(obj)
    return names


def _field_change(
    model: type[models.Model] | None,
    name: str,
    values: Any,
    names: dict[tuple[Any, str], str],
) -> FieldChange | None:
    relation = _relation(model, name)
    if isinstance(values, dict) and values.get("type") == "m2m":
        label = str(relation.verbose_name) if relation is not None else name
        # A many-to-many change lists the rows added or removed, not a before and after.
        objects = ", ".join(str(o) for o in values.get("objects", []))
        if values.get("operation") == "add":
            return FieldChange(label.capitalize(), "", f"added {objects}")
        return FieldChange(label.capitalize(), f"removed {objects}", "")
    field = _model_field(model, name)
    if field is None or not isinstance(values, list) or len(values) != 2:
        return None  # a field the model no longer has, or not a before and after
    label = _mapped_labels(model).get(name) or str(field.verbose_name)
    before, after = (_display(field, v, names) for v in values)
    return FieldChange(label[:1].upper() + label[1:], before, after)


def _mapped_labels(model: type[models.Model] | None) -> dict[str, str]:
    # The labels a model's registration gives its fields (auditlog's mapping_fields).
    if model is None or not auditlog.contains(model):
        return {}
    return auditlog.get_model_fields(model)["mapping_fields"]


def _display(field: models.Field | None, value: Any, names: dict[tuple[Any, str], str]) -> str:
    if value is None or value == "" or value == "None":
        return EMPTY
    if field is None:
        return str(value)
    if field.many_to_one or field.one_to_one:
        return names.get((field.related_model, str(value)), f"#{value} (deleted)")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return "yes" if value in (True, "True") else "no"
    if isinstance(field, models.DateTimeField):
        # auditlog stores date-times in UTC without a zone.
        try:
            moment = dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
        except ValueError:
            return str(value)
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return str(value)
