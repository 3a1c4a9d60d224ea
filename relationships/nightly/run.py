"""The run: its steps in order, in one transaction (a run failing halfway leaves the
previous night's results in place), under a lock (two runs never overlap), idempotent per
run date; a NightlyRun row records the mode, each step's rows and time, or the error."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from customers.errors import Conflict, ValidationFailed

from ..models import CustomerMetrics, NightlyRun, RetentionSnapshot, RiskFlag, RunMode, RunStatus
from .context import (
    LOCK_KEY,
    SESSION_SETTINGS,
    STALE_RUN,
    IncrementalNotPossible,
    NightlyRunBusy,
    RunContext,
    run_date_as_of,
)
from .fit import step_model_fit
from .flags import step_flags, step_ladder
from .incremental import choose_mode, marks_kept, save_state, take_watermarks
from .loading import step_metrics
from .retention import step_retention
from .scores import step_scores
from .sql import is_postgres
from .write import settle, step_write_metrics

# Step name -> step, in running order. The run looks each one up here as it goes, so a
# test replaces one with monkeypatch.setitem(STEPS, name, fake).
STEPS: dict[str, Callable[[RunContext], int]] = {
    "metrics": step_metrics,
    "model_fit": step_model_fit,
    "scores": step_scores,
    "flags": step_flags,
    "ladder": step_ladder,
    # Late: a full night drops and rebuilds CustomerMetrics' indexes, locking it until the
    # commit. Its UPDATE runs on the server while retention is computed here (settle).
    "write_metrics": step_write_metrics,
    "retention": step_retention,
}


def _check_run_date(run_date: dt.date) -> None:
    if run_date > timezone.localdate():
        raise ValidationFailed(f"{run_date} is in the future: a run needs the day's data first.")
    later = NightlyRun.objects.filter(status=RunStatus.SUCCEEDED, run_date__gt=run_date).first()
    if later:
        raise Conflict(
            f"The run of {later.run_date} already succeeded; an earlier date would overwrite "
            "today's numbers with older ones."
        )


def nightly_run(
    *,
    run_date: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    mode: str = "auto",
) -> NightlyRun:
    """Run every step for ``run_date`` (default: today) in one transaction, under a lock.

    ``mode``: "full" recomputes everything; "incremental" starts from the previous run's
    stored summaries and aggregates only the customers something happened to (refused,
    with the reason, when that is not possible); "auto" (the schedule's) is incremental
    when possible and full otherwise: weekly, on a new month, after a configuration
    change, or when more than a tenth of the book changed."""
    if mode not in {"auto", RunMode.FULL, RunMode.INCREMENTAL}:
        raise ValidationFailed(
            f"Unknown mode {mode!r}: use auto, full or incremental.", field="mode"
        )
    run_date = run_date or timezone.localdate()
    _check_run_date(run_date)
    if mode == RunMode.INCREMENTAL and not is_postgres():
        raise IncrementalNotPossible("An incremental night is not possible: it needs PostgreSQL.")
    ctx = RunContext(run_date=run_date, as_of=run_date_as_of(run_date))
    if not is_postgres():
        # SQLite has no advisory locks: a committed "running" row is the lock.
        with transaction.atomic():
            busy = NightlyRun.objects.filter(
                status=RunStatus.RUNNING, started_at__gt=timezone.now() - STALE_RUN
            ).first()
            if busy:
                raise NightlyRunBusy(f"The run of {busy.run_date} is still going; try again later.")
            _mark(run_date, status=RunStatus.RUNNING, started_at=timezone.now())
    try:
        with transaction.atomic():
            if is_postgres():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
                    if not cursor.fetchone()[0]:
                        raise NightlyRunBusy("Another nightly run is still going; try again later.")
                    for setting in SESSION_SETTINGS:
                        cursor.execute(f"SET LOCAL {setting}")
                # Before this night reads anything: the next night starts from here.
                ctx.watermarks = take_watermarks()
            started = timezone.now()
            t0 = time.perf_counter()
            choose_mode(ctx, mode)
            ctx.durations["choose_mode"] = round(time.perf_counter() - t0, 3)
            _mark(
                run_date,
                status=RunStatus.RUNNING,
                started_at=started,
                mode=ctx.mode,
                mode_reason=ctx.mode_reason[:300],
            )
            try:
                for name, step in STEPS.items():
                    if progress:
                        progress(name)
                    t0 = time.perf_counter()
                    written = step(ctx)
                    ctx.durations[name] = round(time.perf_counter() - t0, 3)
                    ctx.rows[name] = int(written)
                settle(ctx)
            except BaseException:
                settle(ctx, finish=False)
                raise
            if is_postgres():
                t0 = time.perf_counter()
                save_state(ctx, NightlyRun.objects.get(run_date=run_date))
                ctx.durations["keep_state"] = round(time.perf_counter() - t0, 3)
                # Fresh statistics so the at-risk queue and dashboards plan for today's rows.
                # An incremental night changes too few metrics and no snapshots to matter.
                t0 = time.perf_counter()
                analyzed = (
                    (RiskFlag,)
                    if ctx.mode == RunMode.INCREMENTAL
                    else (CustomerMetrics, RiskFlag, RetentionSnapshot)
                )
                with connection.cursor() as cursor:
                    for model in analyzed:
                        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
                ctx.durations["analyze"] = round(time.perf_counter() - t0, 3)
            return _mark(
                run_date,
                status=RunStatus.SUCCEEDED,
                started_at=started,
                finished_at=timezone.now(),
                rows={
                    **ctx.rows,
                    "dashboard": ctx.data.get("dashboard"),
                    "watermarks": marks_kept(ctx),
                },
                durations=ctx.durations,
                error="",
            )
    except (NightlyRunBusy, IncrementalNotPossible):
        raise  # nothing ran: the transaction rolled back before any step
    except Exception as exc:
        # Everything the steps wrote rolled back; record the failure on its own.
        _mark(
            run_date,
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            rows=ctx.rows,
            durations=ctx.durations,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise


def _mark(run_date: dt.date, **values) -> NightlyRun:
    run, _ = NightlyRun.objects.update_or_create(run_date=run_date, defaults=values)
    return run
