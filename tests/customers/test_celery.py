"""The import task, in process (no broker) and through a real Celery worker and Redis."""

import datetime as dt
import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from celery.signals import task_postrun
from django.db import connections
from django.utils import timezone

from crm.celery import app
from customers.imports import import_job_create
from customers.models import Customer, ImportJob
from customers.tasks import import_enqueue, import_run, outbox_sweep_task


def new_job(actor, text="name,stage\nAda Lovelace,client\nCharles Babbage,\n"):
    return import_job_create(
        actor=actor,
        kind="customers",
        mode="all_or_nothing",
        filename="people.csv",
        data=text.encode(),
    )


def test_without_a_broker_the_import_runs_in_process(
    admin_user, settings, django_capture_on_commit_callbacks
):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    job = new_job(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_enqueue(job.pk)
    assert outcome == {"queued": True}
    job.refresh_from_db()
    assert (job.status, job.imported_rows) == ("done", 2)
    assert sorted(Customer.objects.values_list("name", flat=True)) == [
        "Ada Lovelace",
        "Charles Babbage",
    ]


def _broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "").strip()
    if url:
        return url
    if os.environ.get("CI") == "true" or os.environ.get("CRM_REQUIRE_SERVICES") == "1":
        pytest.fail("CELERY_BROKER_URL is not set: CI must run the import through a real worker.")
    pytest.skip(
        "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/15) to test with a real worker."
    )


def _close_worker_connections(**kwargs):
    # The worker thread has its own database connections; closed after each task so the
    # test database can be dropped at the end of the session.
    connections.close_all()


@pytest.fixture
def real_worker():
    url = _broker_url()
    keys = ("task_always_eager", "broker_url", "result_backend")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        task_always_eager=False,
        broker_url=url,
        result_backend=os.environ.get("CELERY_RESULT_BACKEND", "").strip() or url,
    )
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        app.control.purge()  # leftovers of an earlier, interrupted run
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield app
    finally:
        task_postrun.disconnect(_close_worker_connections)
        app.conf.update(saved)


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_the_import_task_runs_through_a_real_worker(admin_user, real_worker):
    job = new_job(admin_user)

    result = import_run.delay(job.pk)
    assert not isinstance(result, EagerResult)  # sent to Redis, run by the worker thread
    outcome = result.get(timeout=60)

    assert outcome == {"job": job.pk, "status": "done", "total_rows": 2, "imported_rows": 2}
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.imported_rows) == ("done", 2, 2)
    assert sorted(Customer.objects.values_list("name", flat=True)) == [
        "Ada Lovelace",
        "Charles Babbage",
    ]

    # Delivered again (acks_late after a lost worker): the finished job is left alone.
    again = import_run.delay(job.pk).get(timeout=60)
    assert again["status"] == "done"
    assert Customer.objects.count() == 2
    assert ImportJob.objects.get(pk=job.pk).imported_rows == 2


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_rejected_file_is_reported_by_the_worker(admin_user, real_worker):
    job = new_job(admin_user, "name,stage\nGood,\nBad,nope\n")

    outcome = import_run.delay(job.pk).get(timeout=60)

    assert outcome["status"] == "rejected"
    job.refresh_from_db()
    assert [e["line"] for e in job.errors] == [3]
    assert not Customer.objects.exists()


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_the_outbox_sweep_hands_an_unsent_job_to_a_real_worker(admin_user, real_worker):
    # Saved while the broker was down: never sent.
    job = new_job(admin_user)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=2))

    # Beat sends the sweep; the worker runs it, and it sends the import, once.
    swept = outbox_sweep_task.apply_async(ignore_result=False).get(timeout=60)
    assert swept == {"imports": 1}
    for _ in range(600):  # the import runs after the sweep, on the same worker
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.1)
    assert (job.status, job.imported_rows) == ("done", 2)
    assert job.sent_at is not None
    assert outbox_sweep_task.apply_async(ignore_result=False).get(timeout=60) == {"imports": 0}
