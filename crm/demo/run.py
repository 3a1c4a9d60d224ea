"""The seeding run: the demo logins, segments and tags, then every batch of customers
generated and written, in one transaction, so a failure leaves no half-seeded book behind
that `--if-empty` would skip."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from customers.models import (
    AccountManagerAssignment,
    Customer,
    Purchase,
    Role,
    Segment,
    StageChange,
    Tag,
    User,
)
from relationships.models import Defection, DefectionReason, FollowUp, Interaction

from .catalogue import (
    ADMIN_PASSWORD,
    CUSTOMER_PASSWORD,
    MANAGER_PASSWORD,
    MANAGERS,
    PORTAL_CUSTOMER_NAME,
    SEGMENTS,
    TAGS,
)
from .generate import Context, generate_batch
from .writer import IndexRebuild, Writer

# Secondary indexes and foreign keys are dropped during COPY and rebuilt after it once a
# run writes at least this many rows: building an index once is far cheaper than keeping
# it up to date row by row, and one validating join beats a trigger per row.
REBUILD_INDEXES_FROM_ROWS = 200_000

# Where each batch's columns go, parents before children.
TARGETS: dict[str, type[models.Model]] = {
    "customer": Customer,
    "tags": Customer.tags.through,
    "assignment": AccountManagerAssignment,
    "stage_change": StageChange,
    "purchase": Purchase,
    "interaction": Interaction,
    "defection": Defection,
}


@dataclass
class SeedResult:
    customers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)


class _Clock:
    """Times the run's steps into the result and the log."""

    def __init__(self, result: SeedResult, log: Callable[[str], None]):
        self.result = result
        self.log = log
        self.started = time.perf_counter()

    def record(self, label: str, seconds: float) -> None:
        self.result.timings.append((label, seconds))
        self.log(f"  {label}: {seconds:.1f} s")

    def step(self, label: str) -> None:
        """Record the time since the last step, and start the next one."""
        self.record(label, time.perf_counter() - self.started)
        self.restart()

    def restart(self) -> None:
        self.started = time.perf_counter()


def seed(
    *,
    customers: int,
    seed: int = 42,
    purchases_per_customer: float = 6.0,
    interactions_per_customer: float = 4.0,
    batch_size: int = 20_000,
    bench_customer: bool = False,
    progress: Callable[[int], None] | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> SeedResult:
    """Seed the book in one transaction; returns rows written and how long each step took."""
    result = SeedResult(customers=customers)
    now = timezone.now().replace(microsecond=0)
    postgres = connection.vendor == "postgresql"
    writer = Writer(now)
    clock = _Clock(result, log)
    with transaction.atomic():
        ctx, first_id = _prepare(
            now=now,
            customers=customers,
            seed=seed,
            purchases_per_customer=purchases_per_customer,
            interactions_per_customer=interactions_per_customer,
            bench_customer=bench_customer,
        )
        clock.step("users, segments, tags")
        expected_rows = customers * (1 + purchases_per_customer + interactions_per_customer)
        rebuild = None
        if postgres and expected_rows >= REBUILD_INDEXES_FROM_ROWS:
            rebuild = IndexRebuild([m._meta.db_table for m in TARGETS.values()])
            rebuild.drop()
            clock.step("drop secondary indexes and foreign keys")
        _write_batches(ctx, writer, clock, first_id, customers, batch_size, progress)
        writer.rows[FollowUp._meta.db_table] = _follow_ups_from_interactions(first_id, ctx.today)
        clock.step("follow-ups")
        if rebuild is not None:
            rebuild.restore()
            clock.step("rebuild indexes and foreign keys")
    clock.step("commit")
    if postgres:
        _analyze()
        clock.step("vacuum/analyze")
    result.rows = dict(writer.rows)
    return result


def _prepare(
    *,
    now: dt.datetime,
    customers: int,
    seed: int,
    purchases_per_customer: float,
    interactions_per_customer: float,
    bench_customer: bool,
) -> tuple[Context, int]:
    """The rows every batch refers to, the ids its customers get and the seeded generator."""
    admin, managers, portal_user = _demo_users()
    segment_ids, tag_ids = _segments_and_tags()
    first_id = _reserve_customer_ids(customers)
    ctx = Context(
        rng=np.random.default_rng(seed),
        now=now,
        today=timezone.localdate(now),
        segment_ids=np.array(segment_ids, dtype=np.int64),
        tag_ids=np.array(tag_ids, dtype=np.int64),
        manager_ids=np.array([m.pk for m in managers], dtype=np.int64),
        admin_id=admin.pk,
        customer_user_id=portal_user.pk if portal_user else None,
        purchases_per_customer=purchases_per_customer,
        interactions_per_customer=interactions_per_customer,
        bench_customer=bench_customer,
        reason_ids=dict(DefectionReason.objects.filter(is_active=True).values_list("code", "id")),
    )
    return ctx, first_id


def _write_batches(
    ctx: Context,
    writer: Writer,
    clock: _Clock,
    first_id: int,
    customers: int,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> None:
    generate_seconds = 0.0
    done = 0
    while done < customers:
        n = min(batch_size, customers - done)
        started = time.perf_counter()
        batch = generate_batch(ctx, first_id=first_id + done, ordinal=done, n=n)
        generate_seconds += time.perf_counter() - started
        for key, model in TARGETS.items():
            if key in batch:
                writer.write(model, batch[key])
        done += n
        if progress:
            progress(n)
    clock.record("generate rows (numpy)", generate_seconds)
    for model in TARGETS.values():
        table = model._meta.db_table
        label = f"write {table} ({writer.rows.get(table, 0):,} rows)"
        clock.record(label, writer.seconds.get(table, 0.0))
    clock.restart()


def _follow_ups_from_interactions(first_id: int, today: dt.date) -> int:
    """One FollowUp per interaction of this run that asked for one, set-based: assigned to
    the customer's manager (else the author); nineteen in twenty of those due more than
    four days ago are done, at ten in the morning of the day (the week of open ones around
    today that every manager starts with begins three days ago)."""
    if connection.vendor == "postgresql":
        done_at = "(i.follow_up_on + interval '10 hours')"
    else:
        done_at = "datetime(i.follow_up_on, '+10 hours')"
    done = "i.follow_up_on < %s AND i.id %% 20 <> 0"
    sql = f"""
        INSERT INTO {FollowUp._meta.db_table}
            (customer_id, assignee_id, due_on, what, interaction_id, created_by_id,
             created_at, done_at, done_by_id, done_note)
        SELECT i.customer_id, COALESCE(c.account_manager_id, i.author_id), i.follow_up_on,
               i.subject, i.id, i.author_id, i.created_at,
               CASE WHEN {done} THEN {done_at} END,
               CASE WHEN {done} THEN i.author_id END, ''
        FROM {Interaction._meta.db_table} i
        JOIN {Customer._meta.db_table} c ON c.id = i.customer_id
        WHERE i.follow_up_on IS NOT NULL AND i.customer_id >= %s
    """  # noqa: S608  (table names from the models, values as parameters)
    cutoff = today - dt.timedelta(days=4)
    with connection.cursor() as c:
        c.execute(sql, [cutoff, cutoff, first_id])
        return c.rowcount


def _analyze() -> None:
    with connection.cursor() as c:
        for model in TARGETS.values():
            table = model._meta.db_table
            if connection.in_atomic_block:
                c.execute(f'ANALYZE "{table}"')
            else:
                # Outside a transaction: also set the visibility map for index-only scans.
                c.execute(f'VACUUM (ANALYZE) "{table}"')


def _ensure_user(username: str, *, role: str, first: str, last: str, password_hash: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(
            username=username,
            role=role,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            password=password_hash,
        )
    return user


def _demo_users() -> tuple[User, list[User], User | None]:
    """The admin, the account managers, and the portal's customer login unless an earlier
    run already linked it to a record."""
    admin = _ensure_user(
        "admin",
        role=Role.ADMIN,
        first="Ada",
        last="Admin",
        password_hash=make_password(ADMIN_PASSWORD),
    )
    manager_hash = make_password(MANAGER_PASSWORD)
    managers = [
        _ensure_user(u, role=Role.ACCOUNT_MANAGER, first=f, last=la, password_hash=manager_hash)
        for u, f, la, _ in MANAGERS
    ]
    first, last = PORTAL_CUSTOMER_NAME.split()
    portal_user = _ensure_user(
        "customer",
        role=Role.CUSTOMER,
        first=first,
        last=last,
        password_hash=make_password(CUSTOMER_PASSWORD),
    )
    if Customer.objects.filter(user=portal_user).exists():
        return admin, managers, None
    return admin, managers, portal_user


def _segments_and_tags() -> tuple[list[int], list[int]]:
    """Ids of the demo's segments and tags, in catalogue order, made if missing."""
    segments = []
    for spec in SEGMENTS:
        segment, _ = Segment.objects.get_or_create(
            name=spec.name,
            defaults={"description": spec.description, "inactivity_days": spec.inactivity_days},
        )
        segments.append(segment.pk)
    Tag.objects.bulk_create([Tag(name=n) for n in TAGS], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=TAGS).values_list("name", "id"))
    return segments, [tag_ids[n] for n in TAGS]


def _reserve_customer_ids(n: int) -> int:
    """The first of `n` consecutive customer ids nobody else will be given."""
    table = Customer._meta.db_table
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            seq = c.fetchone()[0]
            c.execute("SELECT nextval(%s)", [seq])
            first = c.fetchone()[0]
            c.execute("SELECT setval(%s, %s)", [seq, first + n - 1])
            return first
        c.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')  # noqa: S608
        return c.fetchone()[0]


def iter_timings(result: SeedResult) -> Iterable[str]:
    for label, seconds in result.timings:
        yield f"{label}: {seconds:.1f} s"
