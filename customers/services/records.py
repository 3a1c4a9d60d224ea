"""Customers, purchases and segments: the writes staff, imports and the API make."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from ..errors import Conflict, DuplicateEmail, NotAllowed, ValidationFailed
from ..formatting import counted
from ..hooks import notify_purchase_recorded
from ..models import (
    AccountManagerAssignment,
    Customer,
    CustomerKind,
    CustomerStatus,
    Purchase,
    Role,
    Segment,
    Stage,
    StageChange,
    Tag,
    User,
)
from ..selectors import customer_is_visible_to


def _check_staff(actor: User) -> None:
    if not actor.is_staff_member:
        raise NotAllowed("Only staff may change customer records.")


def check_account_manager(account_manager: User | None) -> None:
    """Refuse anyone but an active account manager (None, nobody, is allowed)."""
    if account_manager is not None and (
        account_manager.role != Role.ACCOUNT_MANAGER or not account_manager.is_active
    ):
        raise ValidationFailed(
            f"{account_manager} is not an active account manager.", field="account_manager"
        )


# A defection needs its reason (relationships records it); a status field alone cannot
# say why, so no edit, API call or import row turns a customer defected by itself.
MARK_DEFECTED_HINT = (
    "A customer becomes defected through “Mark defected” on their page (API: POST "
    "/api/v1/defections/), which records why they left."
)


def check_status_change(*, current: str | None, new: str) -> None:
    """Refuse turning a customer defected through a plain field change. Keeping an
    already defected customer defected (an edit of their name, say) is fine."""
    if new == CustomerStatus.DEFECTED and current != CustomerStatus.DEFECTED:
        raise ValidationFailed(MARK_DEFECTED_HINT, field="status")


def validate_customer_fields(fields: dict[str, Any]) -> None:
    """The rules on a customer's own fields, for whichever of them `fields` holds. Unknown
    names are refused: the services write Customer.EDITABLE_FIELDS and no others."""
    unknown = set(fields) - set(Customer.EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown customer fields: {', '.join(sorted(unknown))}.")
    if "name" in fields and not (fields["name"] or "").strip():
        raise ValidationFailed("A customer needs a name.", field="name")
    if "kind" in fields and fields["kind"] not in CustomerKind.values:
        raise ValidationFailed(f"Unknown kind {fields['kind']!r}.", field="kind")
    if "stage" in fields and fields["stage"] not in Stage.values:
        raise ValidationFailed(f"Unknown ladder stage {fields['stage']!r}.", field="stage")
    if "status" in fields and fields["status"] not in CustomerStatus.values:
        raise ValidationFailed(f"Unknown status {fields['status']!r}.", field="status")


def check_external_id_free(external_id: str, *, customer: Customer | None = None) -> None:
    """The external id is unique when set; say which customer holds it (the database's
    constraint stays the guard against a race)."""
    if not external_id:
        return
    holder = Customer.objects.filter(external_id=external_id)
    if customer is not None:
        holder = holder.exclude(pk=customer.pk)
    if holder.exists():
        raise Conflict(
            f"Another customer already has the external id {external_id}.", field="external_id"
        )


def check_email_new(*, actor: User, email: str) -> None:
    """Refuse, with a link to them, a new customer whose e-mail a customer already has;
    the caller asks the person and passes allow_duplicate_email to save anyway."""
    if not email:
        return
    existing = Customer.objects.filter(email__iexact=email).order_by("pk").first()
    if existing is None:
        return
    if customer_is_visible_to(actor=actor, customer=existing):
        message = (
            f"{existing.name} (customer #{existing.pk}) already has the e-mail {email}. "
            "Open their record, or save anyway if this is someone else."
        )
        existing_id: int | None = existing.pk
    else:
        message = (
            f"A customer in another account manager's book already has the e-mail {email}. "
            "Ask an admin, or save anyway if this is someone else."
        )
        existing_id = None
    raise DuplicateEmail(message, field="email", extra={"existing_customer": existing_id})


def _set_tags(customer: Customer, tag_names: list[str]) -> None:
    names = sorted({n.strip()[:50] for n in tag_names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    customer.tags.set(existing.values())


@transaction.atomic
def customer_create(
    *,
    actor: User,
    name: str,
    account_manager: User | None = None,
    tags: list[str] | None = None,
    allow_duplicate_email: bool = False,
    **fields,
) -> Customer:
    """Create a customer. An account manager creates into their own book; an admin may
    assign anyone. The first assignment is recorded like every later one. An e-mail that
    a customer already has is refused (DuplicateEmail) unless `allow_duplicate_email`."""
    _check_staff(actor)
    fields["name"] = name
    validate_customer_fields(fields)
    check_external_id_free(fields.get("external_id", ""))
    if not allow_duplicate_email:
        check_email_new(actor=actor, email=fields.get("email", ""))
    if "status" in fields:
        check_status_change(current=None, new=fields["status"])
    if actor.is_account_manager:
        if account_manager is not None and account_manager != actor:
            raise NotAllowed("An account manager can only add customers to their own book.")
        account_manager = actor
    check_account_manager(account_manager)
    customer = Customer.objects.create(account_manager=account_manager, **fields)
    if tags:
        _set_tags(customer, tags)
    if account_manager is not None:
        AccountManagerAssignment.objects.create(
            customer=customer,
            account_manager=account_manager,
            reason="Assigned when the customer was created.",
            changed_by=actor,
        )
    return customer


@transaction.atomic
def customer_update(
    *, actor: User, customer: Customer, tags: list[str] | None = None, **fields
) -> Customer:
    _check_staff(actor)
    validate_customer_fields(fields)
    if "status" in fields:
        check_status_change(current=customer.status, new=fields["status"])
    if "external_id" in fields:
        check_external_id_free(fields["external_id"] or "", customer=customer)
    for key, value in fields.items():
        setattr(customer, key, value)
    customer.save()
    if tags is not None:
        _set_tags(customer, tags)
    return customer


@transaction.atomic
def customer_status_defected(*, actor: User, customer: Customer) -> Customer:
    """Set the status to defected: the status half of relationships' defection_record,
    which checks and records why in the same transaction; nothing else calls it. Locks
    the row, so two people marking one customer at once are served one after the other."""
    _check_staff(actor)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.status != CustomerStatus.DEFECTED:
        locked.status = CustomerStatus.DEFECTED
        locked.save(update_fields=["status", "updated_at"])
    customer.status = locked.status
    return locked


@transaction.atomic
def customer_reassign(
    *, actor: User, customer: Customer, account_manager: User | None, reason: str
) -> AccountManagerAssignment | None:
    """Hand a customer to another account manager (admins only), keeping the history."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can reassign customers.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the customer changes hands.", field="reason")
    if account_manager is not None:
        # The receiver's row locked before the customer's (as book_reassign does): a
        # deactivation running meanwhile either waits for this or is seen by it. NO KEY:
        # see customers/services/staff.py.
        account_manager = User.objects.select_for_update(no_key=True).get(pk=account_manager.pk)
    check_account_manager(account_manager)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.account_manager_id == (account_manager.pk if account_manager else None):
        raise ValidationFailed(
            f"{customer} is already managed by {account_manager or 'nobody'}.",
            field="account_manager",
        )
    now = timezone.now()
    AccountManagerAssignment.objects.filter(customer=locked, ended_at__isnull=True).update(
        ended_at=now
    )
    assignment = AccountManagerAssignment.objects.create(
        customer=locked,
        account_manager=account_manager,
        started_at=now,
        reason=reason[:300],
        changed_by=actor,
    )
    locked.account_manager = account_manager
    locked.save(update_fields=["account_manager", "updated_at"])
    customer.account_manager = account_manager
    return assignment


def clean_purchase_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed("A purchase needs a reference.", field="reference")
    return reference


def clean_purchase_amount(amount: Decimal | str | int) -> Decimal:
    try:
        amount = Decimal(str(amount))
    except ArithmeticError as exc:
        raise ValidationFailed(f"{amount!r} is not an amount.", field="amount") from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed("The amount must be zero or more.", field="amount")
    exponent = amount.as_tuple().exponent  # an int: a finite amount (checked above)
    if not isinstance(exponent, int) or exponent < -2 or abs(amount) >= Decimal("1e12"):
        raise ValidationFailed(
            "The amount must have at most two decimals and twelve digits.", field="amount"
        )
    return amount


def clean_purchase_currency(currency: str) -> str:
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ValidationFailed("The currency must be a three-letter ISO code.", field="currency")
    return currency


def clean_purchase(
    *,
    reference: str,
    amount: Decimal | str | int,
    currency: str,
    occurred_at: dt.datetime,
) -> tuple[str, Decimal, str]:
    """A purchase's reference, amount and currency as stored, or the ValidationFailed that
    names the field; the time must be timezone-aware."""
    reference = clean_purchase_reference(reference)
    amount = clean_purchase_amount(amount)
    currency = clean_purchase_currency(currency)
    if occurred_at is None or timezone.is_naive(occurred_at):
        raise ValidationFailed("The purchase time must include a time zone.", field="occurred_at")
    return reference, amount, currency


def purchase_record(
    *,
    customer: Customer,
    reference: str,
    amount: Decimal | str | int,
    occurred_at: dt.datetime,
    currency: str = "EUR",
    product: str = "",
    category: str = "",
    actor: User | None = None,
) -> Purchase:
    """Record a purchase and let the purchase listeners (loyalty points) react inside the
    same transaction. The same reference twice for one customer is a Conflict."""
    if actor is not None:
        _check_staff(actor)
    reference, amount, currency = clean_purchase(
        reference=reference, amount=amount, currency=currency, occurred_at=occurred_at
    )
    try:
        with transaction.atomic():
            purchase = Purchase.objects.create(
                customer=customer,
                reference=reference,
                amount=amount,
                currency=currency,
                occurred_at=occurred_at,
                product=(product or "")[:200],
                category=(category or "")[:100],
            )
            # A first purchase is the first step up the ladder.
            if Customer.objects.filter(pk=customer.pk, stage=Stage.PROSPECT).update(
                stage=Stage.CUSTOMER, updated_at=timezone.now()
            ):
                StageChange.objects.create(
                    customer=customer,
                    from_stage=Stage.PROSPECT,
                    to_stage=Stage.CUSTOMER,
                    rule="first_purchase",
                    reason=f"First purchase ({reference}).",
                )
                customer.stage = Stage.CUSTOMER
            notify_purchase_recorded(purchase)
    except IntegrityError as exc:
        if Purchase.objects.filter(customer=customer, reference=reference).exists():
            raise Conflict(
                f"Purchase {reference} is already recorded for {customer}.", field="reference"
            ) from exc
        raise
    return purchase


@transaction.atomic
def segment_create(
    *, actor: User, name: str, description: str = "", inactivity_days: int = 365
) -> Segment:
    if not actor.is_admin:
        raise NotAllowed("Only an admin can define segments.")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("A segment needs a name.", field="name")
    if Segment.objects.filter(name__iexact=name).exists():
        raise Conflict(f"A segment called {name} already exists.", field="name")
    return Segment.objects.create(
        name=name, description=description, inactivity_days=inactivity_days
    )


@transaction.atomic
def segment_update(
    *,
    actor: User,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    inactivity_days: int | None = None,
) -> Segment:
    if not actor.is_admin:
        raise NotAllowed("Only an admin can change segments.")
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationFailed("A segment needs a name.", field="name")
        if Segment.objects.filter(name__iexact=name).exclude(pk=segment.pk).exists():
            raise Conflict(f"A segment called {name} already exists.", field="name")
        segment.name = name
    if description is not None:
        segment.description = description
    if inactivity_days is not None:
        if inactivity_days < 1:
            raise ValidationFailed("Inactivity is at least one day.", field="inactivity_days")
        segment.inactivity_days = inactivity_days
    segment.save()
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment: Segment) -> None:
    """Only an empty segment goes: customers are never left pointing at nothing."""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can delete segments.")
    count = Customer.objects.filter(segment=segment).count()
    if count:
        raise Conflict(
            f"{counted(count, 'customer')} {'is' if count == 1 else 'are'} still in {segment}; "
            "move them to another segment first."
        )
    try:
        # Other apps may point at a segment too (a loyalty offer aimed at it): say so.
        with transaction.atomic():
            segment.delete()
    except (ProtectedError, RestrictedError) as exc:
        blocking = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        users = sorted({str(obj._meta.verbose_name_plural) for obj in blocking})
        raise Conflict(
            f"{segment} is still used by {', '.join(users)}; change those first."
        ) from exc
