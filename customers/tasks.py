"""Celery tasks of the customers app: thin shells around services, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from kombu.exceptions import KombuError

from .imports import import_job_run

logger = logging.getLogger(__name__)


@shared_task(name="customers.import_run", acks_late=True, reject_on_worker_lost=True)
def import_run(job_id: int) -> dict:
    """Run one import job. A finished job is left as it is; a job left RUNNING by a worker
    that died starts again (its writes were one transaction, so nothing was kept)."""
    job = import_job_run(job_id=job_id)
    return {
        "job": job.pk,
        "status": job.status,
        "total_rows": job.total_rows,
        "imported_rows": job.imported_rows,
    }


def import_send(job_id: int) -> bool:
    """Hand the job to the broker. With the broker down the job stays PENDING (it is in
    the database already) and False says so; the page offers to send it again."""
    try:
        # The job row is the result: not subscribing to a result also spares the request
        # the result backend's 20 reconnect attempts when Redis is down.
        import_run.apply_async((job_id,), ignore_result=True)
    except (KombuError, OSError, RuntimeError):
        logger.exception("Could not queue import job %s; it waits until it is sent again", job_id)
        return False
    return True


def import_enqueue(job_id: int) -> dict[str, bool]:
    """Send the job once the transaction that created it commits. The returned dict gets
    `queued` when the send was attempted (at once outside a transaction)."""
    outcome: dict[str, bool] = {}
    transaction.on_commit(lambda: outcome.update(queued=import_send(job_id)))
    return outcome
