"""Celery tasks of loyalty: thin shells around services, idempotent per run date or key."""

import datetime as dt
from typing import TypedDict

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from customers.errors import ValidationFailed
from customers.models import Purchase

from .services import earn_missing_for_purchases, nightly_step_run


class RetryOptions(TypedDict):
    """Typed so shared_task's overloads accept it unpacked."""

    acks_late: bool
    reject_on_worker_lost: bool
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: int
    retry_jitter: bool
    max_retries: int


RETRY: RetryOptions = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 60,
    "retry_jitter": True,
    "max_retries": 3,
}


def _day(run_date: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(run_date) if run_date else None
    except (TypeError, ValueError) as exc:
        # A bad date is a caller's mistake: say so, and do not record a failed run.
        raise ValidationFailed(
            f"run_date must look like 2026-01-31, not {run_date!r}.", field="run_date"
        ) from exc


def _step(step: str, run_date: str | None) -> dict:
    run = nightly_step_run(step=step, run_date=_day(run_date) or timezone.localdate())
    return {
        "step": step,
        "run_date": run.run_date.isoformat(),
        "status": run.status,
        "rows": run.rows,
    }


@shared_task(name="loyalty.tasks.expire_points", **RETRY)
def expire_points(run_date: str | None = None) -> dict:
    """Release pending points and expire lots due on the run date (ISO; default today)."""
    return _step("expire", run_date)


@shared_task(name="loyalty.tasks.recompute_tiers", **RETRY)
def recompute_tiers(run_date: str | None = None) -> dict:
    return _step("tiers", run_date)


@shared_task(name="loyalty.tasks.nightly", **RETRY)
def nightly(run_date: str | None = None) -> list[dict]:
    """The nightly schedule's entry: expiry first (it changes balances), then tiers (offers
    target them), the categories bought together, and how far each offer got."""
    return [_step(step, run_date) for step in ("expire", "tiers", "affinity", "offers")]


@shared_task(name="loyalty.tasks.earn_for_purchases", **RETRY)
def earn_for_purchases(purchase_ids: list[int]) -> int:
    """Earn points for purchases recorded without them (a backfill). Retrying is safe: the
    idempotency key purchase:<id> makes a purchase earn once."""
    return earn_missing_for_purchases(purchases=Purchase.objects.filter(pk__in=purchase_ids))
