# Over 600 lines, kept whole: one seeded draw order, which a split would make easy to break.
"""Columns for a batch of customers and all of their history, drawn with numpy.

Every function below draws from the one seeded generator in `Context`, in a fixed order:
the same seed gives the same book only while that order stays as it is. Add a new draw
after the existing ones, never between them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from customers.models import CustomerKind

from .catalogue import (
    BENCH_CUSTOMER_NAME,
    BENCH_HISTORY,
    CATALOGUE,
    CHANNEL_PROBS,
    CHANNELS,
    CITIES,
    COMPLAINT_CAUSE_CODES,
    COMPLAINT_CAUSE_PROBS,
    DEFECTION_REASONS,
    EXIT_NOTE_SHARE,
    EXIT_NOTES,
    FIRST_NAMES,
    HISTORY_DAYS,
    KIND_PROBS,
    KINDS,
    LAST_NAMES,
    LEGAL,
    MANAGERS,
    NOTES,
    ORG_NOUNS,
    ORG_PREFIXES,
    OTHER_COMPLAINT_CAUSE_PROBS,
    PORTAL_CUSTOMER_NAME,
    REASSIGN_REASONS,
    SEGMENT_SHARES,
    SEGMENTS,
    STAGE_CONTACT_FACTOR,
    STAGE_PURCHASE_FACTOR,
    STAGES,
    STATUSES,
    STREETS,
    SUBJECTS,
    UNHAPPY_KIND_PROBS,
)

DAY = 86_400  # seconds
FIRST_ASSIGNMENT = "Assigned when the customer was created."
INTERACTION_COLUMNS = (
    "customer_id",
    "author_id",
    "channel",
    "kind",
    "occurred_at",
    "subject",
    "notes",
    "sentiment",
    "follow_up_on",
    "created_at",
)


@dataclass
class Context:
    """What every batch of one run shares: the generator, the clock and the ids made first."""

    rng: np.random.Generator
    now: dt.datetime
    today: dt.date
    segment_ids: np.ndarray
    tag_ids: np.ndarray
    manager_ids: np.ndarray
    admin_id: int
    customer_user_id: int | None
    purchases_per_customer: float
    interactions_per_customer: float
    bench_customer: bool
    reason_ids: dict[str, int]  # the active defection reasons, by code


@dataclass
class Batch:
    """One row per customer of the batch: the draws each table's columns are built from.
    Indexes into SEGMENTS, STAGES, STATUSES and MANAGERS; times in seconds since 1970."""

    ordinal: int  # of the batch's first customer in the whole book
    ids: np.ndarray
    seg: np.ndarray
    stage: np.ndarray
    status: np.ndarray
    org: np.ndarray
    managed: np.ndarray
    manager: np.ndarray
    acquired: np.ndarray  # datetime64[D], NaT for prospects
    created_s: np.ndarray
    buy_end_s: np.ndarray | None = None  # when each customer's purchases stop
    bench_row: int | None = None
    portal_row: int | None = None

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def ords(self) -> np.ndarray:
        return np.arange(self.ordinal, self.ordinal + self.n)

    @property
    def prospect(self) -> np.ndarray:
        return self.stage == 0

    @property
    def acquired_s(self) -> np.ndarray:
        return self.acquired.astype("datetime64[s]").astype(np.int64)


def _pick(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    return rng.choice(len(probs), size=size, p=np.asarray(probs) / np.sum(probs))


def _pick_rows(rng: np.random.Generator, prob_rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One category per row, drawn from the probability row of each row's group."""
    cum = np.cumsum(prob_rows / prob_rows.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0  # no rounding error may push a draw past the last category
    cum = cum[groups]
    u = rng.random(len(groups))[:, None]
    return np.minimum((u > cum).sum(axis=1), prob_rows.shape[1] - 1)


def _seconds(d: dt.datetime) -> int:
    return int(d.timestamp())


def _per_segment(attribute: str, seg: np.ndarray) -> np.ndarray:
    return np.array([getattr(s, attribute) for s in SEGMENTS])[seg]


def generate_batch(ctx: Context, *, first_id: int, ordinal: int, n: int) -> dict[str, dict]:
    """Columns for `n` customers (ids from `first_id`) and all of their history."""
    b = _draw_customers(ctx, first_id=first_id, ordinal=ordinal, n=n)
    manager_id = np.where(b.managed, ctx.manager_ids[b.manager], 0)
    columns = {
        "customer": _customer_columns(ctx, b, manager_id),
        "tags": _tag_columns(ctx, b),
        "assignment": _assignment_columns(ctx, b, manager_id),
        "stage_change": _stage_change_columns(ctx, b, manager_id),
        "purchase": _purchase_columns(ctx, b),
        "interaction": _interaction_columns(ctx, b),
    }
    # Drawn after everything above, so the rest of the book stays as it was.
    columns["defection"] = _defection_columns(ctx, b, manager_id)
    columns["interaction"]["root_cause_id"] = _complaint_causes(ctx, columns["interaction"])
    return columns


# --- customers ----------------------------------------------------------------------------


def _draw_customers(ctx: Context, *, first_id: int, ordinal: int, n: int) -> Batch:
    """Segment, rung, status, manager and dates of each customer of the batch."""
    rng = ctx.rng
    now_s = _seconds(ctx.now)
    today_d = np.datetime64(ctx.today, "D")
    seg = _pick(rng, SEGMENT_SHARES, n)
    stage = _pick_rows(rng, np.array([s.stage_probs for s in SEGMENTS]), seg)
    status = _pick(rng, [0.80, 0.13, 0.07], n)
    status[(stage == 0) & (status == 2)] = 1  # a prospect never bought, so cannot defect
    org = rng.random(n) < _per_segment("organisations", seg)
    managed = rng.random(n) < _per_segment("managed", seg)
    manager = _pick(rng, [m[3] for m in MANAGERS], n)

    acquired_ago = rng.integers(0, HISTORY_DAYS, n)
    acquired = today_d - acquired_ago.astype("timedelta64[D]")
    lead_days = rng.integers(0, 60, n)
    created_s = (
        acquired.astype("datetime64[s]").astype(np.int64)
        - lead_days * DAY
        + rng.integers(8 * 3600, 18 * 3600, n)
    )
    prospect = stage == 0
    created_s[prospect] = now_s - rng.integers(DAY, 365 * DAY, prospect.sum())
    acquired = acquired.copy()
    acquired[prospect] = np.datetime64("NaT")
    b = Batch(
        ordinal=ordinal,
        ids=np.arange(first_id, first_id + n, dtype=np.int64),
        seg=seg,
        stage=stage,
        status=status,
        org=org,
        managed=managed,
        manager=manager,
        acquired=acquired,
        created_s=created_s,
    )
    if ordinal == 0:
        _pin_named_customers(ctx, b)
    return b


def _pin_named_customers(ctx: Context, b: Batch) -> None:
    """The first batch holds the benchmark's heavy customer and the portal's demo customer."""
    now_s = _seconds(ctx.now)
    today_d = np.datetime64(ctx.today, "D")
    if ctx.bench_customer:
        b.bench_row = 0
        b.seg[0], b.stage[0], b.status[0], b.org[0] = 0, 5, 0, True
        b.managed[0], b.manager[0] = True, 0
        b.acquired[0] = today_d - np.timedelta64(HISTORY_DAYS, "D")
        b.created_s[0] = b.acquired[0].astype("datetime64[s]").astype(np.int64) - 30 * DAY
    if ctx.customer_user_id is not None:
        row = b.portal_row = 1 if b.n > 1 else 0
        b.seg[row], b.stage[row], b.status[row] = 2, 2, 0
        b.org[row], b.managed[row], b.manager[row] = False, True, 1
        b.acquired[row] = today_d - np.timedelta64(500, "D")
        b.created_s[row] = now_s - 520 * DAY


def _names(ctx: Context, b: Batch) -> tuple[list[str], list[str], list[str]]:
    """Names, e-mail addresses and company names: a person's or an organisation's."""
    rng, n = ctx.rng, b.n
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    pre = rng.integers(0, len(ORG_PREFIXES), n)
    noun = rng.integers(0, len(ORG_NOUNS), n)
    legal = rng.integers(0, len(LEGAL), n)
    names, emails, companies = [], [], []
    rows = zip(
        b.org.tolist(),
        first.tolist(),
        last.tolist(),
        pre.tolist(),
        noun.tolist(),
        legal.tolist(),
        b.ords.tolist(),
        strict=True,
    )
    for is_org, f, la, p, no, le, o in rows:
        if is_org:
            name = f"{ORG_PREFIXES[p]} {ORG_NOUNS[no]} {LEGAL[le]}"
            names.append(name)
            companies.append(name)
            emails.append(
                f"{FIRST_NAMES[f].lower()}.{o}@{ORG_PREFIXES[p].lower()}"
                f"-{ORG_NOUNS[no].lower()}.example.com"
            )
        else:
            names.append(f"{FIRST_NAMES[f]} {LAST_NAMES[la]}")
            companies.append("")
            emails.append(f"{FIRST_NAMES[f].lower()}.{LAST_NAMES[la].lower()}.{o}@example.com")
    if b.bench_row is not None:
        names[b.bench_row] = companies[b.bench_row] = BENCH_CUSTOMER_NAME
        emails[b.bench_row] = "benchmark.heavy@example.com"
    if b.portal_row is not None and b.portal_row != b.bench_row:
        names[b.portal_row] = PORTAL_CUSTOMER_NAME
        emails[b.portal_row] = "customer@example.com"
    return names, emails, companies


def _customer_columns(ctx: Context, b: Batch, manager_id: np.ndarray) -> dict:
    rng, n = ctx.rng, b.n
    names, emails, companies = _names(ctx, b)
    phone_nums = rng.integers(1_000_000, 9_999_999, n).tolist()
    phones = [f"+45 {p // 10000:03d} {p % 10000:04d}" for p in phone_nums]
    street = rng.integers(0, len(STREETS), n).tolist()
    city = rng.integers(0, len(CITIES), n).tolist()
    house = rng.integers(1, 200, n).tolist()
    addresses = [
        f"{h} {STREETS[s]}, {CITIES[c]}" for h, s, c in zip(house, street, city, strict=True)
    ]
    user_ids: list[int | None] = [None] * n
    if b.portal_row is not None:
        user_ids[b.portal_row] = ctx.customer_user_id
    return {
        "id": b.ids,
        "kind": np.where(b.org, CustomerKind.ORGANISATION.value, CustomerKind.PERSON.value),
        "name": names,
        "email": emails,
        "phone": phones,
        "company": companies,
        "address": addresses,
        "segment_id": ctx.segment_ids[b.seg],
        "stage": np.array(STAGES, dtype=object)[b.stage],
        "status": np.array([s.value for s in STATUSES], dtype=object)[b.status],
        "acquired_on": b.acquired,
        "account_manager_id": [int(m) if m else None for m in manager_id.tolist()],
        "user_id": user_ids,
        "created_at": b.created_s.astype("datetime64[s]"),
    }


def _tag_columns(ctx: Context, b: Batch) -> dict:
    """About a third of the book carries a tag, some two."""
    rng, n = ctx.rng, b.n
    tag_count = _pick(rng, [0.55, 0.33, 0.12], n)
    t_cust = np.repeat(np.arange(n), tag_count)
    t_first = rng.integers(0, len(ctx.tag_ids), n)
    t_step = rng.integers(1, len(ctx.tag_ids), n)
    t_k = np.arange(len(t_cust)) - np.repeat(np.cumsum(tag_count) - tag_count, tag_count)
    t_idx = (t_first[t_cust] + t_k * t_step[t_cust]) % len(ctx.tag_ids)
    return {"customer_id": b.ids[t_cust], "tag_id": ctx.tag_ids[t_idx]}


def _assignment_columns(ctx: Context, b: Batch, manager_id: np.ndarray) -> dict:
    """Every managed customer has its open row; some changed hands before."""
    rng, n = ctx.rng, b.n
    now_s = _seconds(ctx.now)
    created_s, ids = b.created_s, b.ids
    m_rows = np.flatnonzero(b.managed)
    old_enough = created_s[m_rows] < now_s - 120 * DAY
    moved = m_rows[old_enough & (rng.random(len(m_rows)) < 0.08)]
    if b.bench_row is not None:
        moved = moved[moved != b.bench_row]
    moved_mask = np.zeros(n, dtype=bool)
    moved_mask[moved] = True
    handover_s = (created_s + (now_s - created_s) * rng.uniform(0.2, 0.8, n)).astype(np.int64)
    previous = ctx.manager_ids[(b.manager + rng.integers(1, len(MANAGERS), n)) % len(MANAGERS)]
    open_start = np.where(moved_mask, handover_s, created_s)[m_rows]
    reasons = np.array(REASSIGN_REASONS, dtype=object)[rng.integers(0, len(REASSIGN_REASONS), n)]
    never_ended = np.full(len(m_rows), np.datetime64("NaT"), dtype="datetime64[s]")
    return {
        "customer_id": np.concatenate([ids[moved], ids[m_rows]]),
        "account_manager_id": np.concatenate([previous[moved], manager_id[m_rows]]),
        "started_at": np.concatenate([created_s[moved], open_start]).astype("datetime64[s]"),
        "ended_at": np.concatenate([handover_s[moved].astype("datetime64[s]"), never_ended]),
        "reason": np.concatenate(
            [
                np.full(len(moved), FIRST_ASSIGNMENT, dtype=object),
                np.where(moved_mask[m_rows], reasons[m_rows], FIRST_ASSIGNMENT),
            ]
        ),
        "changed_by_id": np.full(len(moved) + len(m_rows), ctx.admin_id, dtype=np.int64),
    }


def _stage_change_columns(ctx: Context, b: Batch, manager_id: np.ndarray) -> dict:
    """The last climb of everyone above the "customer" rung."""
    now_s = _seconds(ctx.now)
    climbed = np.flatnonzero(b.stage >= 2)
    acq_s = b.acquired_s[climbed]
    climb_s = (acq_s + (now_s - acq_s) * ctx.rng.uniform(0.3, 0.95, len(climbed))).astype(np.int64)
    return {
        "customer_id": b.ids[climbed],
        "from_stage": np.array(STAGES, dtype=object)[b.stage[climbed] - 1],
        "to_stage": np.array(STAGES, dtype=object)[b.stage[climbed]],
        "changed_at": climb_s.astype("datetime64[s]"),
        "changed_by_id": [int(m) if m else None for m in manager_id[climbed].tolist()],
        "reason": np.full(
            len(climbed), "Moved up after repeat purchases and good feedback.", dtype=object
        ),
    }


# --- purchases ----------------------------------------------------------------------------


def _purchase_window(ctx: Context, b: Batch) -> tuple[np.ndarray, np.ndarray]:
    """From acquisition to now, or to some months after a quiet customer stopped buying."""
    rng = ctx.rng
    now_s = _seconds(ctx.now)
    inactivity = _per_segment("inactivity_days", b.seg)
    buy_end = np.full(b.n, now_s, dtype=np.int64)
    quiet = b.status > 0
    buy_end[quiet] = now_s - (inactivity[quiet] + rng.integers(10, 300, quiet.sum())) * DAY
    buy_start = np.where(b.prospect, now_s, b.acquired_s)
    late = buy_end <= buy_start
    buy_end[late] = np.minimum(buy_start[late] + rng.integers(1, 30, late.sum()) * DAY, now_s)
    return buy_start, buy_end


def _purchase_counts(
    ctx: Context, b: Batch, buy_start: np.ndarray, buy_end: np.ndarray
) -> np.ndarray:
    """None for prospects, about one for tourists, more for higher rungs."""
    weight = _per_segment("purchase_weight", b.seg) * STAGE_PURCHASE_FACTOR[b.stage]
    # Purchases accrue with time as a customer: a customer of three weeks has not bought
    # as often as one of three years (else the CLV model sees absurd purchase rates).
    span = (buy_end - buy_start) / (HISTORY_DAYS * DAY)
    weight = weight * np.clip(span, 0.03, 1.0)
    total = ctx.purchases_per_customer * b.n
    if total > 0 and weight.sum() > 0:
        counts = ctx.rng.poisson(weight * (total / weight.sum()))
        counts = np.where(b.prospect, 0, np.maximum(counts, 1))
        tourists = b.seg == 3
        counts[tourists] = np.minimum(counts[tourists], 2)
    else:
        counts = np.zeros(b.n, dtype=np.int64)
    if b.bench_row is not None:
        counts[b.bench_row] = BENCH_HISTORY
    if b.portal_row is not None and total > 0:
        counts[b.portal_row] = max(counts[b.portal_row], 4)  # the portal has something to show
    return counts


def _purchase_columns(ctx: Context, b: Batch) -> dict:
    rng = ctx.rng
    buy_start, buy_end = _purchase_window(ctx, b)
    b.buy_end_s = buy_end
    counts = _purchase_counts(ctx, b, buy_start, buy_end)
    p_cust = np.repeat(np.arange(b.n), counts)
    p_k = np.arange(len(p_cust)) - np.repeat(np.cumsum(counts) - counts, counts)
    p_time = (
        buy_start[p_cust] + (buy_end[p_cust] - buy_start[p_cust]) * rng.random(len(p_cust))
    ).astype(np.int64)
    product = np.empty(len(p_cust), dtype=np.int64)
    p_seg = b.seg[p_cust]
    for si, spec in enumerate(SEGMENTS):
        prods = np.array(spec.products)
        rows = np.flatnonzero(p_seg == si)
        product[rows] = prods[rng.integers(0, len(prods), len(rows))]
    base = np.array([c[2] for c in CATALOGUE])[product]
    scale = _per_segment("price_scale", p_seg)
    amount = np.round(
        base * scale * rng.lognormal(0.0, 0.35, len(p_cust)) * rng.integers(1, 4, len(p_cust)), 2
    )
    p_ord = b.ords[p_cust].tolist()
    return {
        "customer_id": b.ids[p_cust],
        "reference": [f"INV-{o:07d}-{k:04d}" for o, k in zip(p_ord, p_k.tolist(), strict=True)],
        "amount": amount,
        "currency": np.full(len(p_cust), "EUR", dtype=object),
        "occurred_at": p_time.astype("datetime64[s]"),
        "product": np.array([c[0] for c in CATALOGUE], dtype=object)[product],
        "category": np.array([c[1] for c in CATALOGUE], dtype=object)[product],
        "created_at": p_time.astype("datetime64[s]"),
    }


# --- interactions -------------------------------------------------------------------------


def _interaction_times(ctx: Context, b: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Whose interaction each row is (an index into the batch) and when it happened."""
    rng = ctx.rng
    now_s = _seconds(ctx.now)
    weight = _per_segment("interaction_weight", b.seg) * STAGE_CONTACT_FACTOR[b.stage]
    total = ctx.interactions_per_customer * b.n
    counts = (
        rng.poisson(weight * (total / weight.sum())) if total > 0 else np.zeros(b.n, dtype=np.int64)
    )
    if b.bench_row is not None:
        counts[b.bench_row] = BENCH_HISTORY
    i_cust = np.repeat(np.arange(b.n), counts)
    start = np.minimum(b.created_s[i_cust], now_s - DAY)
    occurred = (start + (now_s - start) * rng.random(len(i_cust))).astype(np.int64)
    return i_cust, occurred


def _interaction_content(
    ctx: Context, b: Batch, i_cust: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Kind, sentiment and subject; unhappy customers complain more."""
    rng, m = ctx.rng, len(i_cust)
    unhappy = b.status[i_cust] > 0
    kind = _pick_rows(rng, np.array([KIND_PROBS, UNHAPPY_KIND_PROBS]), unhappy.astype(np.int64))
    complaint = kind == KINDS.index("complaint")
    sentiment = np.array([-1, 0, 0, 1, 1, 2])[rng.integers(0, 6, m)]
    sentiment[complaint] = np.array([-2, -1, -1, 0])[rng.integers(0, 4, complaint.sum())]
    subject_idx = rng.integers(0, 12, m)
    subjects = [
        SUBJECTS[KINDS[k]][s % len(SUBJECTS[KINDS[k]])]
        for k, s in zip(kind.tolist(), subject_idx.tolist(), strict=True)
    ]
    return kind, sentiment, subjects


def _follow_ups(ctx: Context, occurred: np.ndarray) -> np.ndarray:
    """Some interactions ask for a follow-up (run.py makes their FollowUp rows, and marks
    most past ones done)."""
    rng, m = ctx.rng, len(occurred)
    wants = rng.random(m) < 0.10
    follow_up = occurred.astype("datetime64[s]").astype("datetime64[D]") + rng.integers(
        3, 22, m
    ).astype("timedelta64[D]")
    follow_up[~wants] = np.datetime64("NaT")
    return follow_up


def _interaction_columns(ctx: Context, b: Batch) -> dict:
    rng = ctx.rng
    i_cust, occurred = _interaction_times(ctx, b)
    m = len(i_cust)
    kind, sentiment, subjects = _interaction_content(ctx, b, i_cust)
    # The customer's manager writes it; unmanaged customers reach whoever is on duty.
    author = np.where(
        b.managed[i_cust],
        ctx.manager_ids[b.manager[i_cust]],
        ctx.manager_ids[rng.integers(0, len(ctx.manager_ids), m)],
    )
    follow_up = _follow_ups(ctx, occurred)
    cols = {
        "customer_id": b.ids[i_cust],
        "author_id": author,
        "channel": np.array(CHANNELS, dtype=object)[_pick(rng, CHANNEL_PROBS, m)],
        "kind": np.array(KINDS, dtype=object)[kind],
        "occurred_at": occurred.astype("datetime64[s]"),
        "subject": subjects,
        "notes": np.array(NOTES, dtype=object)[rng.integers(0, len(NOTES), m)],
        "sentiment": sentiment,
        "follow_up_on": follow_up,
        "created_at": occurred.astype("datetime64[s]"),
    }
    if b.ordinal == 0:  # every manager opens the demo with follow-ups due around today
        for key, values in _due_follow_ups(ctx, b).items():
            base = cols[key]
            if isinstance(base, list):
                cols[key] = base + list(values)
            else:
                cols[key] = np.concatenate([base, np.asarray(values, dtype=base.dtype)])
    return cols


def _due_follow_ups(ctx: Context, b: Batch) -> dict[str, list]:
    """A week of open follow-ups around today for each manager, two of them complaints."""
    offsets = [-3, -1, 0, 0, 1, 2, 4]
    rows: dict[str, list] = {k: [] for k in INTERACTION_COLUMNS}
    for mi in range(len(MANAGERS)):
        own = np.flatnonzero(b.managed & (b.manager == mi) & (b.status == 0))
        own = own[own != b.bench_row][: len(offsets)]  # its history stays at exactly 1,000
        for j, row in enumerate(own.tolist()):
            complaint = j in (1, 4)
            when = ctx.now - dt.timedelta(days=int(ctx.rng.integers(1, 10)), hours=int(j))
            when_s = np.datetime64(when.replace(tzinfo=None), "s")
            rows["customer_id"].append(int(b.ids[row]))
            rows["author_id"].append(int(ctx.manager_ids[mi]))
            rows["channel"].append("phone" if j % 2 else "email")
            rows["kind"].append("complaint" if complaint else ("sale" if j % 3 else "check_in"))
            rows["occurred_at"].append(when_s)
            rows["subject"].append(
                "Complaint: invoice sent twice" if complaint else "Call back about the renewal"
            )
            rows["notes"].append("Promised an answer by the follow-up date.")
            rows["sentiment"].append(-1 if complaint else 1)
            rows["follow_up_on"].append(
                np.datetime64(ctx.today + dt.timedelta(days=offsets[j]), "D")
            )
            rows["created_at"].append(when_s)
    return rows


# --- defections and complaint causes ------------------------------------------------------


def _defection_columns(ctx: Context, b: Batch, manager_id: np.ndarray) -> dict:
    """Every defected customer's defection: a reason, a day between a fortnight after their
    last purchase and today, often an exit-interview note, recorded by their manager (the
    admin for the unmanaged)."""
    codes = [c for c, _ in DEFECTION_REASONS if c in ctx.reason_ids]
    rows = np.flatnonzero(b.status == 2)
    if not codes or not len(rows) or b.buy_end_s is None:
        return {}
    rng, m = ctx.rng, len(rows)
    probs = [p for c, p in DEFECTION_REASONS if c in ctx.reason_ids]
    reason = _pick(rng, probs, m)
    today_d = np.datetime64(ctx.today, "D")
    earliest = (b.buy_end_s[rows] + 14 * DAY).astype("datetime64[s]").astype("datetime64[D]")
    earliest = np.maximum(np.minimum(earliest, today_d), b.acquired[rows])
    span = (today_d - earliest).astype(np.int64)
    defected_on = earliest + (span * rng.random(m)).astype("timedelta64[D]")
    says = rng.random(m) < EXIT_NOTE_SHARE
    pick = rng.integers(0, 1_000, m)
    notes = [
        EXIT_NOTES[codes[r]][k % len(EXIT_NOTES[codes[r]])] if s and codes[r] in EXIT_NOTES else ""
        for r, s, k in zip(reason.tolist(), says.tolist(), pick.tolist(), strict=True)
    ]
    ids = np.array([ctx.reason_ids[c] for c in codes], dtype=np.int64)
    recorded_by = np.where(b.managed[rows], manager_id[rows], ctx.admin_id)
    return {
        "customer_id": b.ids[rows],
        "reason_id": ids[reason],
        "defected_on": defected_on,
        "exit_interview_notes": notes,
        "recorded_by_id": recorded_by,
        "created_at": defected_on.astype("datetime64[s]") + np.timedelta64(10 * 3600, "s"),
    }


def _complaint_causes(ctx: Context, interaction: dict) -> np.ndarray:
    """Each complaint's root cause, drawn from what its subject says (a late delivery is
    mostly service, a product defect product quality); NULL for every other kind."""
    kinds = np.asarray(interaction["kind"], dtype=object)
    causes = np.full(len(kinds), None, dtype=object)
    rows = np.flatnonzero(kinds == "complaint")
    available = np.array([c in ctx.reason_ids for c in COMPLAINT_CAUSE_CODES])
    if not len(rows) or not available.any():
        return causes
    subjects = list(COMPLAINT_CAUSE_PROBS)
    table = np.array([*COMPLAINT_CAUSE_PROBS.values(), OTHER_COMPLAINT_CAUSE_PROBS]) * available
    table[table.sum(axis=1) == 0] = available  # no cause left for a subject: any active one
    index = {subject: i for i, subject in enumerate(subjects)}
    all_subjects = interaction["subject"]
    group = np.array([index.get(all_subjects[i], len(subjects)) for i in rows.tolist()])
    cause = _pick_rows(ctx.rng, table, group)
    ids = [ctx.reason_ids.get(c) for c in COMPLAINT_CAUSE_CODES]
    causes[rows] = [ids[c] for c in cause.tolist()]
    return causes
