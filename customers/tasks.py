"""Celery tasks of the customers app: thin shells around services, safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import KombuError

from .imports import import_job_run
from .models import ImportJob, ImportStatus
from .outbox import RESEND_AFTER, outbox_sweep

logger = logging.getLogger(__name__)

# Jobs the sweep sends at most at once; the rest wait a minute for the next sweep.
RESEND_BATCH = 100


@shared_task(name="customers.import_run", bind=True, acks_late=True, reject_on_worker_lost=True)
def import_run(self, job_id: int) -> dict:
    """Run one import job. A finished job is left as it is; a job left RUNNING by a worker
    that died starts again (its writes were one transaction, so nothing was kept); a
    message the job no longer waits for (it was sent again since) does nothing."""
    job = import_job_run(job_id=job_id, task_id=self.request.id)
    return {
        "job": job.pk,
        "status": job.status,
        "total_rows": job.total_rows,
        "imported_rows": job.imported_rows,
    }


def import_send(job_id: int) -> bool | None:
    """Hand a waiting job to the broker, once: True when the broker took it, False when
    it could not be reached (the job stays unsent and the sweep sends it again later),
    None when there was nothing to send (already sent, started, or another process is
    sending it right now)."""
    now = timezone.now()
    task_id = str(uuid.uuid4())
    # One conditional UPDATE claims the send: of two senders at once (the sweep on two
    # workers, the page's button) only one matches the row, on SQLite and PostgreSQL alike.
    claimed = (
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING, sent_at__isnull=True)
        .filter(Q(send_tried_at__isnull=True) | Q(send_tried_at__lt=now - RESEND_AFTER))
        .update(task_id=task_id, send_tried_at=now)
    )
    if not claimed:
        return None
    try:
        # The job row is the result: not subscribing to a result also spares the request
        # the result backend's 20 reconnect attempts when Redis is down.
        import_run.apply_async((job_id,), task_id=task_id, ignore_result=True)
    except (KombuError, OSError, RuntimeError):
        logger.exception("Could not queue import job %s; the outbox sweep sends it again", job_id)
        # Free to be sent again at once (the button), or by the next sweep.
        ImportJob.objects.filter(pk=job_id, task_id=task_id).update(send_tried_at=None)
        return False
    ImportJob.objects.filter(pk=job_id, task_id=task_id).update(sent_at=timezone.now())
    return True


def import_enqueue(job_id: int) -> dict[str, bool | None]:
    """Send the job once the transaction that created it commits. The returned dict gets
    `queued` when the send was attempted (at once outside a transaction)."""
    outcome: dict[str, bool | None] = {}
    transaction.on_commit(lambda: outcome.update(queued=import_send(job_id)))
    return outcome


def imports_resend(cutoff: dt.datetime) -> int:
    """The outbox's resender for imports: jobs uploaded before cutoff that no broker took."""
    waiting = list(
        ImportJob.objects.filter(
            status=ImportStatus.PENDING, sent_at__isnull=True, created_at__lt=cutoff
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:RESEND_BATCH]
    )
    sent = 0
    for job_id in waiting:
        outcome = import_send(job_id)
        if outcome is False:
            break  # the broker is down again: the next sweep goes on
        sent += bool(outcome)
    return sent


@shared_task(name="customers.outbox_sweep", ignore_result=True)
def outbox_sweep_task() -> dict[str, int]:
    """Every minute (django-celery-beat): send again what the broker never received."""
    return outbox_sweep()
