"""Races on PostgreSQL: sweeps on several workers at once (and the page's Send now button)
hand an import waiting since a broker outage to the broker once."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from customers import outbox
from customers.imports import import_job_create
from customers.models import ImportJob
from customers.tasks import import_send
from tests.concurrency.together import run_together

pytestmark = [
    pytest.mark.postgres(reason="row claims under concurrent transactions need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_sweeps_and_the_button_at_once_send_a_waiting_import_once(admin_user):
    jobs = [
        import_job_create(
            actor=admin_user,
            kind="customers",
            mode="all_or_nothing",
            filename=f"f{n}.csv",
            data=b"name\nLater\n",
        )
        for n in range(3)
    ]
    ImportJob.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    later = timezone.now()

    with mock.patch("customers.tasks.import_run.apply_async") as send:
        results = run_together(
            [lambda: outbox.outbox_sweep(now=later)] * 4 + [lambda: import_send(jobs[0].pk)] * 2
        )

    sent_ids = sorted(call.args[0][0] for call in send.call_args_list)
    assert sent_ids == sorted(j.pk for j in jobs)  # each job once
    swept = sum(r["imports"] for r in results if isinstance(r, dict))
    pressed = sum(1 for r in results if r is True)
    assert swept + pressed == 3
    for job in ImportJob.objects.all():
        assert job.sent_at is not None
        assert any(c.kwargs["task_id"] == job.task_id for c in send.call_args_list)
