"""The metrics step: per-customer summaries read into numpy arrays (customers, purchases,
interactions, loyalty points, and the small side tables), for the whole book on a full
night or only the changed customers on an incremental one."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from customers.models import Customer, Purchase, Segment, User
from loyalty.models import EntryKind, LedgerEntry, Membership

from ..community.selectors import community_activity
from ..models import (
    Defection,
    Interaction,
    InteractionKind,
    PurchaseRhythm,
    RelationshipStrategy,
    RunMode,
    Sentiment,
    StrategicAssessment,
)
from .book import customer_rows, customer_values
from .context import NAT, SUMMARY_DEFAULTS, RunContext, holdout_days, positions
from .fit import fit_purchase_models
from .incremental import load_state
from .retention import retention_months
from .sql import (
    dt_param,
    dt_param_date,
    epoch_days,
    epoch_days_of_date,
    fetch_floats,
    is_postgres,
    only_clause,
    parallel_scan,
)


def step_metrics(ctx: RunContext) -> int:
    """Per-customer summaries for the whole book. A full night aggregates every purchase,
    interaction and loyalty entry; an incremental night starts from the summaries the
    last run kept (NightlyState) and reads again only the customers something happened
    to (``_changed_customers``) and the ones new since."""
    if ctx.mode == RunMode.INCREMENTAL:
        fresh = load_state(ctx)
        # Customers new since the last run, or edited since, are read again.
        changed = np.union1d(ctx.changed, fresh)
        ctx.changed = changed
        ctx.rows["changed_customers"] = int(changed.size)
        if changed.size:
            _load_customers(ctx, only=changed)
            _aggregate_purchases(ctx, only=changed)
            _aggregate_interactions(ctx, only=changed)
            _points_unused_since(ctx, only=changed)
            _community_activity(ctx, only=changed)
        ids = ctx.data["ids"]
    else:
        _load_customers(ctx)
        ids = ctx.data["ids"]
        _aggregate_purchases(ctx)
        if is_postgres():
            # PostgreSQL aggregates interactions (seconds, one core) while this process
            # fits the purchase models, which need only the purchase summaries (seconds
            # of scipy on the other core). Same connection and transaction: the thread
            # only waits on the query; nothing else touches the database meanwhile.
            raw = connection.connection
            with ThreadPoolExecutor(max_workers=1) as pool:
                interactions = pool.submit(fetch_floats, *_interactions_query(ctx, None), 4, raw)
                ctx.data["fitted"] = fit_purchase_models(ctx)
                _aggregate_interactions(ctx, rows=interactions.result())
        else:
            _aggregate_interactions(ctx)
        _points_unused_since(ctx)
        _community_activity(ctx)
    _load_side_tables(ctx)
    return int(ids.size)


def _load_customers(ctx: RunContext, *, only: np.ndarray | None = None) -> None:
    """Segment, manager, status, rung and acquisition date of every customer (a full
    night), or of ``only`` those into the arrays the state brought (an incremental one)."""
    subset, subset_params = only_clause("id", only)
    customers = customer_rows(f"TRUE {subset}", subset_params)
    d = ctx.data
    row_ids = customers[:, 0].astype(np.int64)
    values = customer_values(customers)
    if only is None:
        d["ids"] = row_ids
        d.update(values)
        return
    where, found = positions(d["ids"], row_ids)
    for name, column in values.items():
        d[name][where] = column[found]


def _fill(
    ctx: RunContext, only: np.ndarray | None, row_ids: np.ndarray, values: dict[str, np.ndarray]
) -> None:
    """Put per-customer values into the book-wide arrays. ``only``: the customers the
    query covered (an incremental night); the ones it returned no row for are reset to
    the defaults first (say, their only purchase was deleted)."""
    d = ctx.data
    n = d["ids"].size
    where, found = positions(d["ids"], row_ids)
    covered = positions(d["ids"], only)[0] if only is not None else None
    for name, column in values.items():
        if covered is None:
            d[name] = np.full(n, SUMMARY_DEFAULTS[name])
        elif name not in d:
            continue  # a figure only a full night needs (the model's calibration part)
        else:
            d[name][covered] = SUMMARY_DEFAULTS[name]
        sums = not np.isnan(SUMMARY_DEFAULTS[name])
        d[name][where] = np.nan_to_num(column[found]) if sums else column[found]


def _aggregate_purchases(ctx: RunContext, *, only: np.ndarray | None = None) -> None:
    """ONE pass over purchases per customer, by purchase day: BG/NBD and Gamma-Gamma
    ([FHL05], [FH13]) count distinct purchase days in the book's time zone, and a day's
    spend is the sum of its purchases; two items bought together are one purchase.

    The inner query sums each (customer, local day); the outer one takes, per customer,
    the purchases and their timestamps (what the pages show), the purchase days, the
    spend on days after the first (Gamma-Gamma's repeat spend), the calibration part
    (for the model's holdout error), the last 365 days' revenue, and revenue per span of
    calendar months over the retention window. Every cut (holdout, year, month) falls on
    a local midnight, so filtering days equals filtering timestamps. float8 sums are
    several times cheaper than numeric ones."""
    d = ctx.data
    run_day = ctx.run_date
    cal_day = run_day - dt.timedelta(days=holdout_days())
    year_day = run_day - dt.timedelta(days=365)
    table = Purchase._meta.db_table
    amt = "amount::float8" if is_postgres() else "amount"
    local_day, tz_params = connection.ops.datetime_cast_date_sql(
        "occurred_at", (), timezone.get_current_timezone_name()
    )
    # Retention's month spans only on a full night (an incremental one keeps retention).
    months = retention_months(ctx) if only is None else []
    month_sums = "".join(", SUM(spend) FILTER (WHERE day >= %s AND day < %s)" for _ in months)
    subset, subset_params = only_clause("customer_id", only)
    sql = f"""
        SELECT customer_id,
               SUM(n), SUM(spend), {epoch_days("MIN(first_at)")}, {epoch_days("MAX(last_at)")},
               COUNT(*), {epoch_days_of_date("MIN(day)")}, {epoch_days_of_date("MAX(day)")},
               SUM(spend) FILTER (WHERE day > first_day),
               COUNT(*) FILTER (WHERE day < %s),
               {epoch_days_of_date("MIN(day) FILTER (WHERE day < %s)")},
               {epoch_days_of_date("MAX(day) FILTER (WHERE day < %s)")},
               SUM(spend) FILTER (WHERE day >= %s)
               {month_sums}
        FROM (
            SELECT customer_id, day, COUNT(*) AS n, SUM(amount) AS spend,
                   MIN(occurred_at) AS first_at, MAX(occurred_at) AS last_at,
                   MIN(day) OVER (PARTITION BY customer_id) AS first_day
            FROM (
                SELECT customer_id, {local_day} AS day, {amt} AS amount, occurred_at
                FROM {table} WHERE occurred_at < %s {subset}
            ) AS purchase
            GROUP BY customer_id, day
        ) AS purchase_day
        GROUP BY customer_id
    """  # noqa: S608
    cols = [
        "count",
        "revenue",
        "first",
        "last",
        "days",
        "first_day",
        "last_day",
        "repeat_revenue",
        "cal_days",
        "cal_first_day",
        "cal_last_day",
        "revenue_12m",
    ]
    c, y = dt_param_date(cal_day), dt_param_date(year_day)
    month_params = [dt_param_date(bound.date()) for _, lo, hi in months for bound in (lo, hi)]
    params = [
        c,
        c,
        c,
        y,
        *month_params,
        *tz_params,
        dt_param(ctx.as_of),
        *subset_params,
    ]
    with parallel_scan():
        rows = fetch_floats(sql, params, len(cols) + 1 + len(months))
    _fill(
        ctx,
        only,
        rows[:, 0].astype(np.int64),
        {name: rows[:, i + 1] for i, name in enumerate(cols)},
    )
    if only is None:
        n = d["ids"].size
        idx = np.searchsorted(d["ids"], rows[:, 0].astype(np.int64))
        month_rev = np.zeros((n, len(months)))
        month_rev[idx] = np.nan_to_num(rows[:, len(cols) + 1 :])
        d["month_rev"] = month_rev
        d["month_index"] = [m for m, _, _ in months]


def _community_activity(ctx: RunContext, *, only: np.ndarray | None = None) -> None:
    """Community contributions in the 90 days before the run, per customer, through the
    community's own selector (a grouped statement per kind of contribution). Read for the
    whole book even on an incremental night: the active customers are few, and a list of
    tens of thousands of changed ids would not fit in one statement's parameters."""
    counts = community_activity(None, until=ctx.as_of)
    ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    totals = np.fromiter((c["total"] for c in counts.values()), dtype=float, count=len(counts))
    order = np.argsort(ids)
    _fill(ctx, only, ids[order], {"community_90d": totals[order]})


def _aggregate_interactions(
    ctx: RunContext, *, only: np.ndarray | None = None, rows: np.ndarray | None = None
) -> None:
    """ONE aggregate over interactions: complaints in 30 days, last contact by the
    customer's current account manager, praise (positive feedback, for the ladder).
    ``rows``: the query's answer, fetched already (see step_metrics)."""
    if rows is None:
        rows = fetch_floats(*_interactions_query(ctx, only), 4)
    _fill(
        ctx,
        only,
        rows[:, 0].astype(np.int64),
        {"complaints_30d": rows[:, 1], "last_contact": rows[:, 2], "praise": rows[:, 3]},
    )


def _interactions_query(ctx: RunContext, only: np.ndarray | None) -> tuple[str, list]:
    month_ago = ctx.as_of - dt.timedelta(days=30)
    i_t, c_t = Interaction._meta.db_table, Customer._meta.db_table
    subset, subset_params = only_clause("i.customer_id", only)
    sql = f"""
        SELECT i.customer_id,
               COUNT(*) FILTER (WHERE i.kind = %s AND i.occurred_at >= %s),
               {epoch_days("MAX(i.occurred_at) FILTER (WHERE i.author_id = c.account_manager_id)")},
               COUNT(*) FILTER (WHERE i.kind = %s AND i.sentiment >= %s)
        FROM {i_t} i JOIN {c_t} c ON c.id = i.customer_id
        WHERE i.occurred_at < %s {subset} GROUP BY i.customer_id
    """  # noqa: S608
    params = [
        InteractionKind.COMPLAINT,
        dt_param(month_ago),
        InteractionKind.FEEDBACK,
        Sentiment.POSITIVE,
        dt_param(ctx.as_of),
        *subset_params,
    ]
    return sql, params


def _load_side_tables(ctx: RunContext) -> None:
    """Small per-segment and per-customer side tables, read whole every night."""
    d = ctx.data
    ids = d["ids"]
    n = ids.size
    strategies = {s.segment_id: s for s in RelationshipStrategy.objects.all()}
    d["strategies"] = strategies
    seg_ids = d["segment"]
    inactivity = dict(Segment.objects.values_list("id", "inactivity_days"))

    def by_segment(values: dict, default: float) -> np.ndarray:
        """Per-customer values from a per-segment dict, by one fancy index (no loop)."""
        keys = np.array(sorted(values), dtype=np.int64)
        table = np.array([values[k] for k in keys.tolist()] + [default], dtype=float)
        where = np.searchsorted(keys, seg_ids)
        hit = (
            (where < keys.size) & (keys[np.minimum(where, max(keys.size - 1, 0))] == seg_ids)
            if keys.size
            else np.zeros(n, dtype=bool)
        )
        return table[np.where(hit, where, keys.size)]

    repeat_by_seg = {k: float(v.rhythm != PurchaseRhythm.FLING) for k, v in strategies.items()}
    d["expects_repeat"] = by_segment(repeat_by_seg, 1.0) > 0
    d["expected_gap"] = by_segment(
        {k: float(v.expected_gap_days or np.nan) for k, v in strategies.items()}, np.nan
    )
    d["cost_to_serve"] = by_segment(
        {k: float(v.cost_to_serve_per_year) for k, v in strategies.items()}, 0.0
    )
    d["inactivity_days"] = by_segment({k: float(v) for k, v in inactivity.items()}, 365.0)
    d["segment_names"] = dict(Segment.objects.values_list("id", "name"))
    d["manager_names"] = {
        u.pk: str(u) for u in User.objects.filter(pk__in=np.unique(d["manager"]).tolist())
    }

    manual = np.full(n, np.nan)
    reference = np.zeros(n)
    size = np.full(n, np.nan)
    assessments = list(
        StrategicAssessment.objects.values_list(
            "customer_id", "score", "is_reference", "size_score"
        )
    )
    if assessments:
        idx = np.searchsorted(ids, np.array([r[0] for r in assessments], dtype=np.int64))
        manual[idx] = _column(assessments, 1)
        reference[idx] = _column(assessments, 2)
        size[idx] = _column(assessments, 3)
    d["manual_strategic"], d["is_reference"], d["size_score"] = manual, reference, size

    defected = np.full(n, NAT, dtype="datetime64[D]")
    rows = list(
        Defection.objects.filter(defected_on__lte=ctx.run_date)
        .values("customer_id")
        .annotate(last=Max("defected_on"))
        .values_list("customer_id", "last")
    )
    if rows:
        idx = np.searchsorted(ids, np.array([r[0] for r in rows], dtype=np.int64))
        defected[idx] = np.array([np.datetime64(r[1], "D") for r in rows])
    d["defected_on"] = defected


def _points_unused_since(ctx: RunContext, *, only: np.ndarray | None = None) -> None:
    """For customers holding loyalty points: since when (days since 1970) they have not
    used them: their last redemption, or joining the program if they never redeemed.
    NaN for customers with no points. One grouped query over memberships and redemptions;
    the balance is today's (the ledger is not replayed for past run dates)."""
    m, e = Membership._meta.db_table, LedgerEntry._meta.db_table
    subset, subset_params = only_clause("customer_id", only)
    sql = f"""
        SELECT m.customer_id, SUM(m.balance), MAX(r.last_redeem), MIN({epoch_days("m.joined_at")})
        FROM {m} m LEFT JOIN (
            SELECT membership_id, MAX({epoch_days("created_at")}) AS last_redeem FROM {e}
            WHERE kind = %s AND created_at < %s
              AND membership_id IN (SELECT id FROM {m} WHERE joined_at < %s {subset})
            GROUP BY membership_id
        ) r ON r.membership_id = m.id
        WHERE m.joined_at < %s {subset.replace("customer_id", "m.customer_id")}
        GROUP BY m.customer_id
    """  # noqa: S608
    as_of = dt_param(ctx.as_of)
    rows = fetch_floats(
        sql, [EntryKind.REDEEM, as_of, as_of, *subset_params, as_of, *subset_params], 4
    )
    rows = rows[rows[:, 1] > 0]  # holding points
    since = np.where(np.isnan(rows[:, 2]), rows[:, 3], rows[:, 2])
    _fill(ctx, only, rows[:, 0].astype(np.int64), {"points_unused_since": since})


def _column(rows: list[tuple], i: int, dtype=float) -> np.ndarray:
    return np.array([r[i] if r[i] is not None else np.nan for r in rows], dtype=dtype)
