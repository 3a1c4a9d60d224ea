"""The outbox: work saved in the database whose Celery task the broker never received.

A request saves its work, then sends the task once the transaction commits
(`transaction.on_commit`). With the broker down that send fails: the work is safe in the
database but nothing would ever run it. Each kind of such work registers a resender here;
the periodic `customers.outbox_sweep` task (every minute, django-celery-beat) calls them,
so the work is sent again within a minute of the broker coming back. Beat itself sends
the sweep through the broker, so the sweep runs only once the broker is back.

A resender must be safe to run twice and at once from two workers: it claims each row
with one conditional UPDATE before sending it (see customers.tasks.import_send), and the
task checks the row's state when it starts. Apps above customers (loyalty,
relationships) register theirs in their AppConfig.ready()."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.utils import timezone

logger = logging.getLogger(__name__)

# How long a send may be in flight before the sweep takes it for lost: the request's own
# send after its commit gets this long first, and so does a send another worker is making.
RESEND_AFTER = dt.timedelta(seconds=30)

# name -> resender(cutoff): sends again what was saved before cutoff and never accepted
# by the broker; answers how many it sent.
Resender = Callable[[dt.datetime], int]
_RESENDERS: dict[str, Resender] = {}


def register_resender(name: str, resender: Resender) -> None:
    _RESENDERS[name] = resender


def outbox_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Run every resender; one that fails (the broker went down again) does not stop the
    others, and its work waits for the next sweep."""
    cutoff = (now or timezone.now()) - RESEND_AFTER
    sent: dict[str, int] = {}
    for name, resender in _RESENDERS.items():
        try:
            sent[name] = resender(cutoff)
        except Exception:
            logger.exception("Outbox resender %s failed; the next sweep tries again", name)
            sent[name] = 0
    return sent
