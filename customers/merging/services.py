"""Merging two records of one customer: the preview of what moves, and the merge itself.

One transaction: both customers are locked (pk order); `customers` moves its own rows
(purchases, assignments, ladder and consent history, deletion requests, tags), each app
subscribed in `customers.hooks` moves the rows that need care (memberships and points,
open flags, reviews...), then every plain foreign key still pointing at the absorbed
customer is moved generically, so an app added later cannot lose rows to the delete. A
relation with a unique key and no listener stops the merge instead. The absorbed record
is deleted and a CustomerMerge row keeps who merged which two, when, and what moved.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from django.db import transaction
from django.db.models import Count, Field, ForeignObjectRel, Model, UniqueConstraint
from django.utils import timezone

from ..errors import Conflict, NotAllowed, ValidationFailed
from ..hooks import MergeContext, notify_customers_merged
from ..models import (
    AccountManagerAssignment,
    Customer,
    CustomerMerge,
    DeletionRequest,
    DeletionStatus,
    Purchase,
    Stage,
    StageChange,
)

# Blank on the survivor, filled from the absorbed record.
FILLED_FIELDS = ("email", "phone", "company", "address", "external_id", "segment")
LADDER = list(Stage.values)


def _label(model: type[Model]) -> str:
    return str(model._meta.verbose_name_plural).capitalize()


@dataclass(frozen=True)
class Relation:
    model: type[Model]
    name: str  # the foreign key's name on `model`
    one_to_one: bool


def _relations() -> list[Relation]:
    """Every foreign key and one-to-one field, in any app, that points at a customer."""
    return [
        Relation(cast(type[Model], rel.related_model), rel.field.name, bool(rel.one_to_one))
        for rel in Customer._meta.get_fields()
        if isinstance(rel, ForeignObjectRel) and (rel.one_to_many or rel.one_to_one)
    ]


def _check(actor, survivor: Customer, absorbed: Customer) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only an admin can merge customers.")
    if survivor.pk == absorbed.pk:
        raise ValidationFailed("Pick two different customers to merge.", field="absorbed")


@dataclass
class MergePreview:
    """Side by side: each customer's fields and how many rows of each kind they hold."""

    survivor: Customer
    absorbed: Customer
    rows: list[tuple[str, int, int]] = field(default_factory=list)
    fills: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def moves(self) -> int:
        return sum(absorbed for _, _, absorbed in self.rows)


def customer_merge_preview(*, actor, survivor: Customer, absorbed: Customer) -> MergePreview:
    """What a merge would move, fill in and refuse, without writing anything. One count
    query per kind of related row."""
    _check(actor, survivor, absorbed)
    preview = MergePreview(survivor=survivor, absorbed=absorbed)
    pair = [survivor.pk, absorbed.pk]
    for rel in _relations():
        name = rel.name
        counts = dict(
            rel.model._base_manager.filter(**{f"{name}__in": pair})
            .values_list(name)
            .annotate(n=Count("pk"))
            .order_by()
        )
        if counts.get(absorbed.pk) or counts.get(survivor.pk):
            label = _label(rel.model)
            preview.rows.append((label, counts.get(survivor.pk, 0), counts.get(absorbed.pk, 0)))
    preview.rows.sort()
    for name in FILLED_FIELDS:
        if not getattr(survivor, name) and getattr(absorbed, name):
            verbose = str(cast(Field, Customer._meta.get_field(name)).verbose_name)
            preview.fills.append((verbose.capitalize(), str(getattr(absorbed, name))))
    if _both_pending_deletion(survivor, absorbed):
        preview.problems.append(
            "Both customers have a pending deletion request: decide one of them first."
        )
    return preview


def _both_pending_deletion(survivor: Customer, absorbed: Customer) -> bool:
    pending = DeletionRequest.objects.filter(
        customer__in=[survivor, absorbed], status=DeletionStatus.PENDING
    ).values_list("customer_id", flat=True)
    return len(set(pending)) == 2


@transaction.atomic
def customer_merge(*, actor, survivor: Customer, absorbed: Customer) -> CustomerMerge:
    """Merge `absorbed` into `survivor` (see the module's docstring)."""
    _check(actor, survivor, absorbed)
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[survivor.pk, absorbed.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise Conflict("One of the two customers no longer exists (merged or deleted meanwhile).")
    survivor, absorbed = locked[survivor.pk], locked[absorbed.pk]
    if _both_pending_deletion(survivor, absorbed):
        raise Conflict(
            "Both customers have a pending deletion request: decide one of them first.",
            field="absorbed",
        )
    context = MergeContext(survivor=survivor, absorbed=absorbed, actor=actor)
    _merge_record_fields(context)
    _move_own_rows(context)
    notify_customers_merged(context)
    _move_the_rest(context)
    record = CustomerMerge.objects.create(
        survivor=survivor,
        survivor_name=survivor.name,
        absorbed_id=absorbed.pk,
        absorbed_name=absorbed.name,
        absorbed_email=absorbed.email,
        merged_by=actor,
        moved={k: v for k, v in sorted(context.moved.items()) if v},
        notes=context.notes,
    )
    # Records merged into the absorbed one earlier now lead to the survivor.
    CustomerMerge.objects.filter(survivor_id=absorbed.pk).update(
        survivor=survivor, survivor_name=survivor.name
    )
    absorbed.delete()
    return record


def _merge_record_fields(context: MergeContext) -> None:
    survivor, absorbed, now = context.survivor, context.absorbed, timezone.now()
    changed = ["updated_at"]
    for name in FILLED_FIELDS:
        if not getattr(survivor, name) and getattr(absorbed, name):
            setattr(survivor, name, getattr(absorbed, name))
            changed.append(name)
    if absorbed.acquired_on and (
        survivor.acquired_on is None or absorbed.acquired_on < survivor.acquired_on
    ):
        survivor.acquired_on = absorbed.acquired_on
        changed.append("acquired_on")
    # The survivor stands on the higher rung of the two (their purchases are now one).
    if LADDER.index(absorbed.stage) > LADDER.index(survivor.stage):
        StageChange.objects.create(
            customer=survivor,
            from_stage=survivor.stage,
            to_stage=absorbed.stage,
            changed_by=context.actor,
            rule="merge",
            reason=f"Merged with #{absorbed.pk} {absorbed.name}, who stood higher."[:300],
        )
        survivor.stage = absorbed.stage
        changed.append("stage")
    if absorbed.user_id:
        login = absorbed.user
        if survivor.user_id is None:
            # The portal login follows the customer; one login per record.
            absorbed.user = None
            absorbed.save(update_fields=["user"])
            survivor.user = login
            changed.append("user")
            context.notes.append(f"The portal login {login} now opens the survivor's record.")
        elif login is not None:
            login.is_active = False
            login.save(update_fields=["is_active"])
            context.notes.append(
                f"Both had a portal login; {login} (the absorbed record's) was deactivated."
            )
    if absorbed.external_id and "external_id" in changed:
        # Unique when set: the absorbed record lets go of it before the survivor takes it.
        Customer.objects.filter(pk=absorbed.pk).update(external_id="")
    survivor.save(update_fields=changed)
    if survivor.account_manager_id != absorbed.account_manager_id and absorbed.account_manager_id:
        context.notes.append(
            f"The survivor keeps their account manager ({survivor.account_manager or 'nobody'}); "
            f"{absorbed.account_manager} managed the absorbed record."
        )
    AccountManagerAssignment.objects.filter(customer=absorbed, ended_at__isnull=True).update(
        ended_at=now
    )


def _move_own_rows(context: MergeContext) -> None:
    survivor, absorbed, moved = context.survivor, context.absorbed, context.moved
    # A purchase reference is unique per customer: an absorbed purchase whose reference
    # the survivor already has keeps its amount and gets the merge in its reference.
    taken = set(Purchase.objects.filter(customer=survivor).values_list("reference", flat=True))
    clashing = list(Purchase.objects.filter(customer=absorbed, reference__in=taken))
    for purchase in clashing:
        purchase.reference = f"{purchase.reference} (from #{absorbed.pk})"[-100:]
    Purchase.objects.bulk_update(clashing, ["reference"])
    if clashing:
        context.notes.append(
            f"{len(clashing)} purchase reference(s) existed on both records; the absorbed "
            f"ones now end in “(from #{absorbed.pk})”."
        )
    tags = set(survivor.tags.values_list("pk", flat=True))
    survivor.tags.add(*absorbed.tags.exclude(pk__in=tags))
    for model in (Purchase, AccountManagerAssignment, StageChange, DeletionRequest):
        moved[_label(model)] += model._base_manager.filter(customer=absorbed).update(
            customer=survivor
        )


def _unique_on(model: type[Model], name: str) -> bool:
    together = any(name in fields for fields in model._meta.unique_together)
    constrained = any(
        isinstance(c, UniqueConstraint) and name in c.fields for c in model._meta.constraints
    )
    return together or constrained


def _move_the_rest(context: MergeContext) -> None:
    """Plain foreign keys the listeners left are moved as they are; a relation whose
    rows could clash on the survivor needs its app's listener."""
    moved: Counter[str] = context.moved
    for rel in _relations():
        model, name = rel.model, rel.name
        rows = model._base_manager.filter(**{name: context.absorbed})
        if not rows.exists():
            continue
        if rel.one_to_one or _unique_on(model, name):
            raise Conflict(
                f"{_label(model)} of the absorbed customer cannot be moved (no merge "
                "listener handles them); nothing was merged."
            )
        moved[_label(model)] += rows.update(**{name: context.survivor})
