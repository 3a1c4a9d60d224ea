"""The outbox: an import saved while the broker was down is sent again by the periodic
sweep once the broker is back, once, and the page says what is happening."""

import datetime as dt
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from kombu.exceptions import OperationalError

from crm.celery import app
from customers import outbox
from customers.imports import import_job_create
from customers.models import Customer, ImportJob
from customers.tasks import import_run, import_send

APPLY_ASYNC = "customers.tasks.import_run.apply_async"


def broker_down():
    return mock.patch(APPLY_ASYNC, side_effect=OperationalError("Connection refused"))


def broker_up_no_worker():
    """The broker takes the message; no worker runs it (yet)."""
    return mock.patch(APPLY_ASYNC)


def later(seconds=61):
    """The sweep's clock, a while after the upload."""
    return timezone.now() + dt.timedelta(seconds=seconds)


def new_job(admin_user, text="name\nLater\n"):
    return import_job_create(
        actor=admin_user,
        kind="customers",
        mode="all_or_nothing",
        filename="f.csv",
        data=text.encode(),
    )


# Transactional, like a real request: the task is sent once the upload is committed.
@pytest.mark.django_db(transaction=True)
def test_an_upload_while_the_broker_is_down_is_sent_by_the_sweep_once(client, admin_user):
    client.force_login(admin_user)
    with broker_down():
        response = client.post(
            reverse("import-create"),
            {
                "kind": "customers",
                "mode": "all_or_nothing",
                "file": SimpleUploadedFile("people.csv", b"name\nLater\n", "text/csv"),
            },
        )
    job = ImportJob.objects.get()
    assert (job.status, job.sent_at) == ("pending", None)
    page = client.get(response.url).content.decode()
    assert "sent again automatically within a minute" in page
    assert "Send now" in page

    # The broker is still down at the first sweep: nothing is lost, nothing is marked sent.
    with broker_down() as send:
        assert outbox.outbox_sweep(now=later()) == {"imports": 0}
    assert send.call_count == 1
    assert ImportJob.objects.get().sent_at is None

    # Back: the sweep sends it, once; the next sweeps find nothing to send.
    with broker_up_no_worker() as send:
        assert outbox.outbox_sweep(now=later()) == {"imports": 1}
        assert outbox.outbox_sweep(now=later(120)) == {"imports": 0}
    assert send.call_count == 1
    job.refresh_from_db()
    assert job.sent_at is not None
    assert send.call_args.kwargs["task_id"] == job.task_id
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "waiting for a worker to start the import" in page
    assert "Send now" not in page

    # The worker runs the message it was sent.
    import_run.apply(args=(job.pk,), task_id=job.task_id)
    assert Customer.objects.get().name == "Later"
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "Imported 1 of 1 rows" in page


def test_the_sweep_leaves_a_fresh_upload_to_its_own_send(admin_user):
    job = new_job(admin_user)
    with broker_up_no_worker() as send:
        assert outbox.outbox_sweep(now=timezone.now()) == {"imports": 0}
    assert not send.called
    job.refresh_from_db()
    assert job.sent_at is None


def test_the_sweep_runs_it_in_process_without_a_broker(admin_user):
    job = new_job(admin_user)
    assert outbox.outbox_sweep(now=later()) == {"imports": 1}
    job.refresh_from_db()
    assert (job.status, job.imported_rows) == ("done", 1)
    assert job.sent_at is not None


def test_a_job_running_or_finished_is_never_sent_again(admin_user):
    running = new_job(admin_user)
    ImportJob.objects.filter(pk=running.pk).update(status="running")
    done = new_job(admin_user)
    ImportJob.objects.filter(pk=done.pk).update(status="done")
    with broker_up_no_worker() as send:
        assert outbox.outbox_sweep(now=later()) == {"imports": 0}
        assert import_send(running.pk) is None
    assert not send.called


def test_two_senders_at_once_send_once(admin_user):
    job = new_job(admin_user)
    # Another worker claimed the send a moment ago and is still talking to the broker.
    ImportJob.objects.filter(pk=job.pk).update(task_id="other", send_tried_at=timezone.now())
    with broker_up_no_worker() as send:
        assert import_send(job.pk) is None
        assert outbox.outbox_sweep(now=later(1)) == {"imports": 0}
    assert not send.called
    # That worker died before it could record the send: once the send is older than
    # RESEND_AFTER, the sweep takes it over.
    stale = timezone.now() - outbox.RESEND_AFTER - dt.timedelta(seconds=1)
    ImportJob.objects.filter(pk=job.pk).update(send_tried_at=stale)
    with broker_up_no_worker() as send:
        assert outbox.outbox_sweep(now=later()) == {"imports": 1}
    assert send.call_count == 1
    job.refresh_from_db()
    assert job.task_id not in ("", "other")


def test_a_message_the_job_no_longer_waits_for_does_nothing(admin_user):
    job = new_job(admin_user)
    ImportJob.objects.filter(pk=job.pk).update(task_id="the-new-one")
    import_run.apply(args=(job.pk,), task_id="an-old-one")
    job.refresh_from_db()
    assert job.status == "pending"
    assert not Customer.objects.exists()
    import_run.apply(args=(job.pk,), task_id="the-new-one")
    job.refresh_from_db()
    assert job.status == "done"
    # Delivered twice (acks_late after a lost worker): the finished job is left alone.
    import_run.apply(args=(job.pk,), task_id="the-new-one")
    assert Customer.objects.count() == 1


def test_one_failing_resender_does_not_stop_the_others(admin_user, monkeypatch, caplog):
    def broken(cutoff):
        raise RuntimeError("boom")

    monkeypatch.setitem(outbox._RESENDERS, "broken", broken)
    new_job(admin_user)
    with broker_up_no_worker() as send:
        assert outbox.outbox_sweep(now=later()) == {"imports": 1, "broken": 0}
    assert send.call_count == 1
    assert "Outbox resender broken failed" in caplog.text


def test_the_sweep_is_scheduled_every_minute(db):
    entry = PeriodicTask.objects.get(task="customers.outbox_sweep")
    assert entry.enabled
    assert (entry.interval.every, entry.interval.period) == (60, "seconds")
    assert "customers.outbox_sweep" in app.tasks
