"""Celery tasks of relationships: thin shells around services, safe to run twice."""

import datetime as dt

from celery import shared_task

from .nightly import NightlyRunBusy
from .nightly import nightly_run as run_nightly_service


@shared_task(
    name="relationships.tasks.nightly_run",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(NightlyRunBusy,),
    retry_backoff=300,
    retry_jitter=True,
    max_retries=3,
)
def nightly_run(run_date: str | None = None, mode: str = "auto") -> dict:
    """Recompute metrics, fits, flags and retention for a run date (ISO string; default
    today), incremental when possible (mode "auto"). Idempotent per run date: a second
    delivery rewrites the same rows."""
    day = dt.date.fromisoformat(run_date) if run_date else None
    run = run_nightly_service(run_date=day, mode=mode)
    return {
        "run_date": run.run_date.isoformat(),
        "status": run.status,
        "mode": run.mode,
        "rows": run.rows,
    }
