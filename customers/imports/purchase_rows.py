"""Purchase rows: matched to a customer the importer may see, checked against purchases
already recorded and earlier lines, written in batches with their listeners."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone

from ..errors import ValidationFailed
from ..hooks import notify_purchase_recorded
from ..models import Customer, ImportJob, Purchase, Stage, StageChange
from ..selectors import customers_visible_to
from ..services import (
    clean_purchase_amount,
    clean_purchase_currency,
    clean_purchase_reference,
)
from .values import (
    BATCH_SIZE,
    check_length,
    chunks,
    collect,
    field_max_length,
    parse_moment,
    row_failure,
)


class PurchaseImporter:
    """Rows become purchases as purchase_record makes them: same amount, currency and
    time rules, the first purchase moves a prospect up the ladder, and the purchase
    listeners (loyalty points) run for each one inside the import's transaction."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.customers: dict[int, Customer] = {}
        self.by_email: dict[str, list[Customer]] = defaultdict(list)
        self.existing: set[tuple[int, str]] = set()
        self.first_line: dict[tuple[int, str], int] = {}
        self.earliest: dict[int, tuple[dt.datetime, str]] = {}
        self.reference_length = field_max_length(Purchase, "reference")
        self.creates = 0
        self.updates = 0  # purchases are only ever added

    def preload(self, rows: Iterable[dict[str, str]]) -> None:
        ids: set[int] = set()
        emails: set[str] = set()
        references: set[str] = set()
        for row in rows:
            raw_id = row.get("customer_id", "")
            if raw_id.isdigit() and len(raw_id) < 19:
                ids.add(int(raw_id))
            emails.add(row.get("customer_email", "").lower())
            references.add(row.get("reference", ""))
        visible = customers_visible_to(self.job.created_by)
        for chunk in chunks(sorted(ids)):
            self.customers.update({c.pk: c for c in visible.filter(pk__in=chunk)})
        for chunk in chunks(sorted(emails - {""})):
            for found in visible.annotate(lemail=Lower("email")).filter(lemail__in=chunk):
                # One instance per customer, so a ladder move is seen by all its rows.
                customer = self.customers.setdefault(found.pk, found)
                self.by_email[customer.email.lower()].append(customer)
        for chunk in chunks(sorted(references - {""})):
            self.existing.update(
                Purchase.objects.filter(reference__in=chunk).values_list("customer_id", "reference")
            )

    def clean(self, row: dict[str, str]) -> dict[str, Any]:
        errors: list[ValidationFailed] = []
        customer = collect(
            errors,
            lambda: self._customer(row.get("customer_id", ""), row.get("customer_email", "")),
        )
        occurred_at = collect(errors, lambda: self._moment(row.get("occurred_at", "")))
        raw_reference = row.get("reference", "")
        collect(errors, lambda: check_length("reference", raw_reference, self.reference_length))
        # The rules purchase_record applies, field by field, so every bad cell is named.
        reference = collect(errors, lambda: clean_purchase_reference(raw_reference))
        amount = collect(errors, lambda: clean_purchase_amount(row.get("amount", "")))
        currency = collect(
            errors, lambda: clean_purchase_currency(row.get("currency", "") or "EUR")
        )
        if errors:
            raise row_failure(errors)
        return {
            "customer": customer,
            "reference": reference,
            "amount": amount,
            "currency": currency,
            "occurred_at": occurred_at,
            # Cut like purchase_record cuts them.
            "product": row.get("product", "")[:200],
            "category": row.get("category", "")[:100],
        }

    @staticmethod
    def _moment(occurred: str) -> dt.datetime:
        if not occurred:
            raise ValidationFailed("occurred_at is required.", field="occurred_at")
        return parse_moment(occurred, "occurred_at")

    def _customer(self, raw_id: str, email: str) -> Customer:
        if raw_id:
            if not raw_id.isdigit():
                raise ValidationFailed(
                    f"customer_id {raw_id!r} is not a number.", field="customer_id"
                )
            customer = self.customers.get(int(raw_id)) if len(raw_id) < 19 else None
            if customer is None:
                raise ValidationFailed(f"There is no customer {raw_id}.", field="customer_id")
            if email and customer.email.lower() != email.lower():
                raise ValidationFailed(
                    f"Customer {raw_id} has the e-mail {customer.email or '(none)'}, not {email}.",
                    field="customer_email",
                )
            return customer
        if email:
            matches = self.by_email.get(email.lower(), [])
            if not matches:
                raise ValidationFailed(
                    f"There is no customer with the e-mail {email}.", field="customer_email"
                )
            if len(matches) > 1:
                raise ValidationFailed(
                    f"{len(matches)} customers have the e-mail {email}; use customer_id instead.",
                    field="customer_email",
                )
            return matches[0]
        raise ValidationFailed(
            "Give the customer_id or customer_email of the customer.", field="customer_id"
        )

    def accept(self, fields: dict[str, Any], line: int) -> None:
        customer, reference = fields["customer"], fields["reference"]
        key = (customer.pk, reference)
        if key in self.existing:
            raise ValidationFailed(
                f"Purchase {reference} is already recorded for {customer}.", field="reference"
            )
        if key in self.first_line:
            raise ValidationFailed(
                f"Purchase {reference} for {customer} is already on line "
                f"{self.first_line[key]} of this file.",
                field="reference",
            )
        self.first_line[key] = line
        self.creates += 1
        seen = self.earliest.get(customer.pk)
        if seen is None or fields["occurred_at"] < seen[0]:
            self.earliest[customer.pk] = (fields["occurred_at"], reference)

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        self._promote_first_buyers()
        count = 0
        for batch in chunks(rows, BATCH_SIZE):
            purchases = Purchase.objects.bulk_create([Purchase(**fields) for fields in batch])
            # Purchase listeners (loyalty points) react to imported purchases too, inside
            # this same transaction, exactly as for a purchase recorded one by one.
            for purchase in purchases:
                notify_purchase_recorded(purchase)
            count += len(purchases)
        self.creates = count
        return count

    def _promote_first_buyers(self) -> None:
        """A first purchase is the first step up the ladder, as in purchase_record; the
        earliest imported purchase of each prospect names the move."""
        prospects: list[int] = []
        for chunk in chunks(sorted(self.earliest)):
            ids = list(
                Customer.objects.select_for_update()
                .filter(pk__in=chunk, stage=Stage.PROSPECT)
                .values_list("pk", flat=True)
            )
            Customer.objects.filter(pk__in=ids).update(
                stage=Stage.CUSTOMER, updated_at=timezone.now()
            )
            prospects.extend(ids)
        StageChange.objects.bulk_create(
            [
                StageChange(
                    customer_id=pk,
                    from_stage=Stage.PROSPECT,
                    to_stage=Stage.CUSTOMER,
                    rule="first_purchase",
                    reason=f"First purchase ({self.earliest[pk][1]}), imported."[:300],
                )
                for pk in prospects
            ],
            batch_size=BATCH_SIZE,
        )
        for pk in prospects:
            self.customers[pk].stage = Stage.CUSTOMER
