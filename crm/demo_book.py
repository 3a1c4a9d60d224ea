"""A believable demo (or benchmark) book of customers, generated fast and deterministically.

Rows are generated per batch of customers with numpy (vectorised, seeded) from small word
lists, then written with COPY on PostgreSQL and bulk_create on SQLite. The whole run is one
transaction, so a failure leaves no half-seeded book behind that `--if-empty` would skip.

This module is the one place that knows the whole schema: interactions belong to the
`relationships` app, which `customers` must not import, so their model is looked up through
the app registry at run time (and skipped if that app is not installed).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from customers.models import (
    AccountManagerAssignment,
    Customer,
    CustomerKind,
    CustomerStatus,
    Purchase,
    Role,
    Segment,
    Stage,
    StageChange,
    Tag,
    User,
)
from relationships.models import Interaction

ADMIN_PASSWORD = "demo-admin-pass"  # noqa: S105 - published demo logins, shown by `make run`
MANAGER_PASSWORD = "demo-manager-pass"  # noqa: S105
CUSTOMER_PASSWORD = "demo-customer-pass"  # noqa: S105

BENCH_CUSTOMER_NAME = "Benchmark Heavy Customer"
BENCH_HISTORY = 500  # purchases, and as many interactions: 1,000 history rows
PORTAL_CUSTOMER_NAME = "Carmen Customer"

# Secondary indexes and foreign keys are dropped during COPY and rebuilt after it once a
# run writes at least this many rows: building an index once is far cheaper than keeping
# it up to date row by row, and one validating join beats a trigger per row.
REBUILD_INDEXES_FROM_ROWS = 200_000

STAGES = list(Stage.values)  # lowest rung first
STATUSES = [CustomerStatus.ACTIVE, CustomerStatus.INACTIVE, CustomerStatus.DEFECTED]
HISTORY_DAYS = 3 * 365
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _words(text: str) -> list[str]:
    return text.split()


@dataclass(frozen=True)
class SegmentSpec:
    name: str
    description: str
    inactivity_days: int
    share: float  # of the book
    organisations: float  # share of organisations (the rest are persons)
    stage_probs: tuple[float, ...]  # prospect .. partner
    price_scale: float  # multiplies catalogue prices
    purchase_weight: float  # relative purchase frequency
    interaction_weight: float  # relative contact frequency
    managed: float  # share with an account manager
    products: tuple[int, ...]  # indexes into CATALOGUE


CATALOGUE = [
    # product, category, base price (EUR)
    ("Starter licence", "software", 49.0),
    ("Team licence", "software", 390.0),
    ("Enterprise licence", "software", 4_800.0),
    ("Support plan", "services", 1_200.0),
    ("Onboarding workshop", "training", 950.0),
    ("Online course", "training", 89.0),
    ("Consulting day", "services", 1_100.0),
    ("Hardware kit", "hardware", 640.0),
    ("Spare parts", "hardware", 75.0),
    ("Gift card", "retail", 50.0),
    ("Day tour", "travel", 120.0),
    ("City pass", "travel", 65.0),
    ("Souvenir box", "retail", 35.0),
    ("Subscription box", "retail", 29.0),
    ("Co-marketing package", "partnership", 2_500.0),
    ("Reseller bundle", "partnership", 3_900.0),
]

# fmt: off
SEGMENTS = [
    SegmentSpec(
        name="Enterprise",
        description="Large accounts with a dedicated account manager. Relationship: long-term, "
        "dedicated personal assistance.",
        inactivity_days=365, share=0.08, organisations=1.0,
        stage_probs=(0.12, 0.22, 0.28, 0.18, 0.12, 0.08),
        price_scale=1.6, purchase_weight=1.6, interaction_weight=2.2, managed=1.0,
        products=(2, 3, 4, 6, 7),
    ),
    SegmentSpec(
        name="SMB",
        description="Small and medium businesses. Relationship: personal assistance and "
        "self-service.",
        inactivity_days=180, share=0.22, organisations=0.9,
        stage_probs=(0.25, 0.30, 0.23, 0.11, 0.07, 0.04),
        price_scale=1.0, purchase_weight=1.2, interaction_weight=1.3, managed=0.95,
        products=(1, 3, 4, 5, 7, 8),
    ),
    SegmentSpec(
        name="Consumers",
        description="Private customers. Relationship: automated services, communities, "
        "loyalty program.",
        inactivity_days=120, share=0.45, organisations=0.0,
        stage_probs=(0.30, 0.32, 0.20, 0.10, 0.06, 0.02),
        price_scale=1.0, purchase_weight=1.0, interaction_weight=0.8, managed=0.9,
        products=(0, 5, 8, 9, 13),
    ),
    SegmentSpec(
        name="Tourists — one-off",
        description="Visitors who buy once. Relationship: transactional; one purchase is a "
        "success, not a defection.",
        inactivity_days=730, share=0.17, organisations=0.0,
        stage_probs=(0.15, 0.80, 0.05, 0.0, 0.0, 0.0),
        price_scale=1.0, purchase_weight=0.15, interaction_weight=0.3, managed=0.0,
        products=(9, 10, 11, 12),
    ),
    SegmentSpec(
        name="Partners",
        description="Resellers and co-marketing partners. Relationship: co-creation and "
        "communities.",
        inactivity_days=365, share=0.08, organisations=1.0,
        stage_probs=(0.05, 0.10, 0.20, 0.20, 0.20, 0.25),
        price_scale=1.2, purchase_weight=1.4, interaction_weight=1.8, managed=1.0,
        products=(1, 3, 14, 15),
    ),
]
# fmt: on
_SHARES = np.array([s.share for s in SEGMENTS])

MANAGERS = [
    ("alice", "Alice", "Andersen", 0.40),
    ("bob", "Bob", "Berger", 0.35),
    ("chris", "Chris", "Chen", 0.25),
]
TAGS = _words(
    """
    vip newsletter referral trade-fair needs-training beta-tester price-sensitive
    key-account community eco-conscious
    """
)

FIRST_NAMES = _words(
    """
    Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Karin Lars Maja Nils Olga Paul Rosa
    Sven Tara Ulrich Vera Wim Xenia Yusuf Zoe Amir Bianca Carlos Dana Erik Fatima Gabriel
    Hannah Ivan Julia Kofi Lena Marco Nora Oscar Priya Quentin Rita Samuel Tomas Ulla Victor
    Wanda Yara Zain Leila Mateo Sofia Arjun Mei Noah Elif Jakob Ines
    """
)
LAST_NAMES = _words(
    """
    Andersen Berg Costa Dahl Eriksen Fischer Garcia Hansen Ivanova Jensen Keller Lindberg
    Moreau Nielsen Olsen Petersen Quist Rossi Schmidt Tanaka Ueda Vogel Weber Xu Yilmaz
    Zimmermann Almeida Bauer Carlsson Dubois Engel Fontaine Gruber Holm Iversen Janssen
    Kowalski Lund Meyer Novak Ortega Pereira Richter Svensson Thomsen Urban Varga Wagner
    Young Ziegler Nakamura Okafor Bergstrom Haddad Laine Mensah Park Silva Oyelaran Kaur
    """
)
ORG_PREFIXES = _words(
    """
    Nordwind Bluefield Silverline Redwood Brightpath Clearwater Ironbridge Greenhill
    Stonegate Summit Harbor Northstar Oakridge Riverside Suncrest Westbrook Evergreen
    Highland Lakeside Meadow Pinecrest Copperleaf Granite Horizon Keystone Lighthouse Maple
    Orchard Quarry Sterling Tidewater Unity Vantage Willow Zenith Aurora Beacon Cobalt Delta
    Falcon
    """
)
ORG_NOUNS = _words(
    """
    Logistics Bakery Systems Foods Engineering Studios Labs Consulting Pharma Energy Motors
    Textiles Media Robotics Analytics Hotels Dental Architects Brewing Outdoor Print
    Software Freight Optics Medical Solar Furniture Travel Apparel Farms
    """
)
LEGAL = ["GmbH", "Ltd", "BV", "SA", "Inc", "AB", "AS", "Oy"]
STREETS = """Main Street|Harbour Road|Station Square|Mill Lane|Park Avenue|Church Street|Market Place
|River Walk|King's Road|Garden Row|Bridge Street|Castle Hill""".replace("\n", "").split("|")
CITIES = _words(
    """
    Copenhagen Hamburg Rotterdam Lyon Porto Milan Gothenburg Vienna Dublin Krakow Ghent Tallinn
    """
)

CHANNELS = ["phone", "email", "meeting", "chat", "on_site", "portal", "community"]
CHANNEL_PROBS = [0.28, 0.30, 0.12, 0.10, 0.05, 0.10, 0.05]
KINDS = ["sale", "support", "training", "complaint", "feedback", "check_in"]
KIND_PROBS = [0.20, 0.25, 0.07, 0.07, 0.14, 0.27]
UNHAPPY_KIND_PROBS = [0.08, 0.27, 0.03, 0.35, 0.12, 0.15]  # inactive and defected customers
SUBJECTS = {
    "sale": ["Renewal offer", "Upgrade proposal", "Quote for additional seats", "Bundle offer"],
    "support": ["Login problem", "Invoice question", "Setup help", "Delivery status"],
    "training": ["Onboarding session", "Advanced features training", "New admin walkthrough"],
    "complaint": [
        "Complaint: late delivery",
        "Complaint: billing error",
        "Complaint: product defect",
        "Complaint: slow support answer",
    ],
    "feedback": ["Feature idea", "Survey answers", "Review of the last release"],
    "check_in": ["Quarterly check-in", "Account review", "Courtesy call", "Annual planning"],
}
NOTES = [
    "",
    "",
    "",
    "Asked for a follow-up with pricing details.",
    "Happy with the service so far; mentioned a colleague who may be interested.",
    "Wants fewer e-mails and more phone contact.",
    "Budget decision expected next quarter.",
    "Raised the same issue as last time; escalate if it happens again.",
]
REASSIGN_REASONS = [
    "Rebalanced books after a new hire.",
    "Customer asked for a different contact.",
    "Manager moved to another region.",
]
STAGE_PURCHASE_FACTOR = np.array([0.0, 0.5, 1.2, 1.5, 1.8, 2.0])
STAGE_CONTACT_FACTOR = np.array([0.6, 0.7, 1.0, 1.2, 1.4, 1.8])


@dataclass
class SeedResult:
    customers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)


# --- writing ------------------------------------------------------------------------------


def _interaction_model() -> type[models.Model] | None:
    # The demo book spans apps, so it lives in crm, the composition root.
    return Interaction


def _to_db_lists(columns: dict[str, object], postgres: bool) -> dict[str, list]:
    """numpy columns -> plain lists the backend accepts (strings for COPY, objects for ORM)."""
    out = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray):
            kind = values.dtype.kind
            if kind == "M":  # datetime64: [s] for timestamps, [D] for dates, NaT for NULL
                nat = np.isnat(values).tolist()
                is_date = np.datetime_data(values.dtype)[0] == "D"
                if postgres:
                    unit = "D" if is_date else "s"
                    tz = "naive" if is_date else "UTC"
                    converted = np.datetime_as_string(values, unit=unit, timezone=tz).tolist()
                else:
                    ints = values.astype("int64").tolist()
                    converted = [
                        None
                        if missing
                        else dt.date.fromordinal(v + EPOCH_ORDINAL)
                        if is_date
                        else dt.datetime.fromtimestamp(v, tz=dt.UTC)
                        for v, missing in zip(ints, nat, strict=True)
                    ]
                out[name] = [
                    None if missing else v for v, missing in zip(converted, nat, strict=True)
                ]
            elif kind == "f":
                out[name] = (
                    values.tolist() if postgres else [Decimal(f"{v:.2f}") for v in values.tolist()]
                )
            else:
                out[name] = values.tolist()
        else:
            out[name] = list(values)
    return out


def _default_for(f: models.Field, now: dt.datetime):
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return now
    return f.get_default()


class Writer:
    """Writes generated columns into a model's table, filling the other columns with their
    model defaults (so a field another app adds later does not break the seeder)."""

    def __init__(self, now: dt.datetime):
        self.postgres = connection.vendor == "postgresql"
        self.now = now
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def write(self, model: type[models.Model], columns: dict[str, object]) -> None:
        started = time.perf_counter()
        lists = _to_db_lists(columns, self.postgres)
        n = len(next(iter(lists.values()))) if lists else 0
        if n:
            if self.postgres:
                self._copy(model, lists, n)
            else:
                self._bulk_create(model, lists, n)
        label = model._meta.db_table
        self.rows[label] = self.rows.get(label, 0) + n
        self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

    def _copy(self, model, lists: dict[str, list], n: int) -> None:
        names = []
        values = []
        for f in model._meta.concrete_fields:
            if f.attname in lists:
                names.append(f.column)
                values.append(lists[f.attname])
            elif not f.primary_key:
                names.append(f.column)
                values.append([_default_for(f, self.now)] * n)
        unknown = set(lists) - {f.attname for f in model._meta.concrete_fields}
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        table = connection.ops.quote_name(model._meta.db_table)
        cols = ", ".join(connection.ops.quote_name(c) for c in names)
        with (
            connection.cursor() as wrapper,
            wrapper.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
        ):
            write_row = copy.write_row
            for row in zip(*values, strict=True):
                write_row(row)

    def _bulk_create(self, model, lists: dict[str, list], n: int) -> None:
        keys = list(lists)
        objs = [
            model(**dict(zip(keys, row, strict=True))) for row in zip(*lists.values(), strict=True)
        ]
        model.objects.bulk_create(objs, batch_size=2000)


class IndexRebuild:
    """Drop a table's secondary indexes, unique constraints and foreign keys for a bulk load
    and put them back afterwards, inside the caller's transaction (PostgreSQL DDL is
    transactional: a failed run restores them with everything else)."""

    def __init__(self, tables: list[str]):
        self.tables = tables
        self.indexes: list[str] = []
        self.constraints: list[tuple[str, str, str]] = []

    def drop(self) -> None:
        with connection.cursor() as c:
            for table in self.tables:
                c.execute(
                    """
                    SELECT k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
                    WHERE k.conrelid = %s::regclass AND k.contype IN ('f', 'u')
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint r
                                      WHERE r.contype = 'f' AND r.conindid = k.conindid
                                        AND k.contype = 'u')
                    ORDER BY k.contype DESC, k.conname
                    """,
                    [table],
                )
                for name, definition in c.fetchall():
                    self.constraints.append((table, name, definition))
                    c.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                c.execute(
                    """
                    SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                    JOIN pg_class ic ON ic.oid = i.indexrelid
                    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                      WHERE k.conindid = i.indexrelid
                                        AND k.conrelid = i.indrelid)
                    ORDER BY ic.relname
                    """,
                    [table],
                )
                for name, definition in c.fetchall():
                    self.indexes.append(definition)
                    c.execute(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        with connection.cursor() as c:
            c.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for definition in self.indexes:
                c.execute(definition)
            # Unique constraints first: a foreign key may need the index they build.
            for table, name, definition in sorted(
                self.constraints, key=lambda t: not t[2].startswith("UNIQUE")
            ):
                c.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


# --- generation ---------------------------------------------------------------------------


def _pick(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    return rng.choice(len(probs), size=size, p=np.asarray(probs) / np.sum(probs))


def _pick_rows(rng: np.random.Generator, prob_rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One category per row, drawn from the probability row of each row's group."""
    cum = np.cumsum(prob_rows / prob_rows.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0  # no rounding error may push a draw past the last category
    cum = cum[groups]
    u = rng.random(len(groups))[:, None]
    return np.minimum((u > cum).sum(axis=1), prob_rows.shape[1] - 1)


def _strings(pool: list[str], idx: np.ndarray) -> list[str]:
    arr = np.asarray(pool, dtype=object)
    return arr[idx].tolist()


@dataclass
class Context:
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
    with_interactions: bool
    first_customer_id: int = 0


def _seconds(d: dt.datetime) -> int:
    return int(d.timestamp())


def generate_batch(ctx: Context, *, first_id: int, ordinal: int, n: int) -> dict[str, dict]:
    """Columns for `n` customers (ids from `first_id`) and all of their history."""
    rng = ctx.rng
    now_s = _seconds(ctx.now)
    today_d = np.datetime64(ctx.today, "D")
    day = 86_400
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    ords = np.arange(ordinal, ordinal + n)

    seg = _pick(rng, _SHARES, n)
    stage_probs = np.array([s.stage_probs for s in SEGMENTS])
    stage = _pick_rows(rng, stage_probs, seg)
    status = _pick(rng, [0.80, 0.13, 0.07], n)
    status[(stage == 0) & (status == 2)] = 1  # a prospect never bought, so cannot defect
    org = rng.random(n) < np.array([s.organisations for s in SEGMENTS])[seg]
    managed = rng.random(n) < np.array([s.managed for s in SEGMENTS])[seg]
    manager = _pick(rng, [m[3] for m in MANAGERS], n)

    acquired_ago = rng.integers(0, HISTORY_DAYS, n)
    acquired = today_d - acquired_ago.astype("timedelta64[D]")
    lead_days = rng.integers(0, 60, n)
    created_s = (
        acquired.astype("datetime64[s]").astype(np.int64)
        - lead_days * day
        + rng.integers(8 * 3600, 18 * 3600, n)
    )
    prospect = stage == 0
    created_s[prospect] = now_s - rng.integers(day, 365 * day, prospect.sum())
    acquired = acquired.copy()
    acquired[prospect] = np.datetime64("NaT")

    portal_row = bench_row = None
    if ordinal == 0:
        if ctx.bench_customer:
            bench_row = 0
            seg[0], stage[0], status[0], org[0] = 0, 5, 0, True
            managed[0], manager[0] = True, 0
            acquired[0] = today_d - np.timedelta64(HISTORY_DAYS, "D")
            created_s[0] = acquired[0].astype("datetime64[s]").astype(np.int64) - 30 * day
        if ctx.customer_user_id is not None:
            portal_row = 1 if n > 1 else 0
            seg[portal_row], stage[portal_row], status[portal_row] = 2, 2, 0
            org[portal_row], managed[portal_row], manager[portal_row] = False, True, 1
            acquired[portal_row] = today_d - np.timedelta64(500, "D")
            created_s[portal_row] = now_s - 520 * day
        prospect = stage == 0  # the rows above were overridden

    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    pre = rng.integers(0, len(ORG_PREFIXES), n)
    noun = rng.integers(0, len(ORG_NOUNS), n)
    legal = rng.integers(0, len(LEGAL), n)
    names, emails, companies = [], [], []
    for i, (is_org, f, la, p, no, le, o) in enumerate(
        zip(
            org.tolist(),
            first.tolist(),
            last.tolist(),
            pre.tolist(),
            noun.tolist(),
            legal.tolist(),
            ords.tolist(),
            strict=True,
        )
    ):
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
        if i == bench_row:
            names[i] = companies[i] = BENCH_CUSTOMER_NAME
            emails[i] = "benchmark.heavy@example.com"
        elif i == portal_row:
            names[i] = PORTAL_CUSTOMER_NAME
            emails[i] = "customer@example.com"
    phone_nums = rng.integers(1_000_000, 9_999_999, n).tolist()
    phones = [f"+45 {p // 10000:03d} {p % 10000:04d}" for p in phone_nums]
    street = rng.integers(0, len(STREETS), n).tolist()
    city = rng.integers(0, len(CITIES), n).tolist()
    house = rng.integers(1, 200, n).tolist()
    addresses = [
        f"{h} {STREETS[s]}, {CITIES[c]}" for h, s, c in zip(house, street, city, strict=True)
    ]
    manager_id = np.where(managed, ctx.manager_ids[manager], 0)
    user_ids = [None] * n
    if portal_row is not None:
        user_ids[portal_row] = ctx.customer_user_id

    out: dict[str, dict] = {}
    out["customer"] = {
        "id": ids,
        "kind": np.where(org, CustomerKind.ORGANISATION.value, CustomerKind.PERSON.value),
        "name": names,
        "email": emails,
        "phone": phones,
        "company": companies,
        "address": addresses,
        "segment_id": ctx.segment_ids[seg],
        "stage": np.array(STAGES, dtype=object)[stage],
        "status": np.array([s.value for s in STATUSES], dtype=object)[status],
        "acquired_on": acquired,
        "account_manager_id": [int(m) if m else None for m in manager_id.tolist()],
        "user_id": user_ids,
        "created_at": created_s.astype("datetime64[s]"),
    }

    # Tags: about a third of the book carries one, some two.
    tag_count = _pick(rng, [0.55, 0.33, 0.12], n)
    t_cust = np.repeat(np.arange(n), tag_count)
    t_first = rng.integers(0, len(ctx.tag_ids), n)
    t_step = rng.integers(1, len(ctx.tag_ids), n)
    t_k = np.arange(len(t_cust)) - np.repeat(np.cumsum(tag_count) - tag_count, tag_count)
    t_idx = (t_first[t_cust] + t_k * t_step[t_cust]) % len(ctx.tag_ids)
    out["tags"] = {"customer_id": ids[t_cust], "tag_id": ctx.tag_ids[t_idx]}

    # Assignments: every managed customer has its open row; some changed hands before.
    m_rows = np.flatnonzero(managed)
    old_enough = created_s[m_rows] < now_s - 120 * day
    moved = m_rows[old_enough & (rng.random(len(m_rows)) < 0.08)]
    if bench_row is not None:
        moved = moved[moved != bench_row]
    moved_mask = np.zeros(n, dtype=bool)
    moved_mask[moved] = True
    handover_s = (created_s + (now_s - created_s) * rng.uniform(0.2, 0.8, n)).astype(np.int64)
    previous = ctx.manager_ids[(manager + rng.integers(1, len(MANAGERS), n)) % len(MANAGERS)]
    open_start = np.where(moved_mask, handover_s, created_s)[m_rows]
    reasons = np.array(REASSIGN_REASONS, dtype=object)[rng.integers(0, len(REASSIGN_REASONS), n)]
    out["assignment"] = {
        "customer_id": np.concatenate([ids[moved], ids[m_rows]]),
        "account_manager_id": np.concatenate([previous[moved], manager_id[m_rows]]),
        "started_at": np.concatenate([created_s[moved], open_start]).astype("datetime64[s]"),
        "ended_at": np.concatenate(
            [
                handover_s[moved].astype("datetime64[s]"),
                np.full(len(m_rows), np.datetime64("NaT"), dtype="datetime64[s]"),
            ]
        ),
        "reason": np.concatenate(
            [
                np.full(len(moved), "Assigned when the customer was created.", dtype=object),
                np.where(
                    moved_mask[m_rows], reasons[m_rows], "Assigned when the customer was created."
                ),
            ]
        ),
        "changed_by_id": np.full(len(moved) + len(m_rows), ctx.admin_id, dtype=np.int64),
    }

    # Stage history: the last climb of everyone above the "customer" rung.
    climbed = np.flatnonzero(stage >= 2)
    acq_s = acquired.astype("datetime64[s]").astype(np.int64)
    climb_s = (
        acq_s[climbed] + (now_s - acq_s[climbed]) * rng.uniform(0.3, 0.95, len(climbed))
    ).astype(np.int64)
    out["stage_change"] = {
        "customer_id": ids[climbed],
        "from_stage": np.array(STAGES, dtype=object)[stage[climbed] - 1],
        "to_stage": np.array(STAGES, dtype=object)[stage[climbed]],
        "changed_at": climb_s.astype("datetime64[s]"),
        "changed_by_id": [int(m) if m else None for m in manager_id[climbed].tolist()],
        "reason": np.full(
            len(climbed), "Moved up after repeat purchases and good feedback.", dtype=object
        ),
    }

    # Purchases: none for prospects, about one for tourists, more for higher rungs.
    inactivity = np.array([s.inactivity_days for s in SEGMENTS])[seg]
    buy_end = np.full(n, now_s, dtype=np.int64)
    quiet = status > 0
    buy_end[quiet] = now_s - (inactivity[quiet] + rng.integers(10, 300, quiet.sum())) * day
    buy_start = np.where(prospect, now_s, acq_s)
    late = buy_end <= buy_start
    buy_end[late] = np.minimum(buy_start[late] + rng.integers(1, 30, late.sum()) * day, now_s)
    weight = np.array([s.purchase_weight for s in SEGMENTS])[seg] * STAGE_PURCHASE_FACTOR[stage]
    # Purchases accrue with time as a customer: a customer of three weeks has not bought
    # as often as one of three years (else the CLV model sees absurd purchase rates).
    span = (buy_end - buy_start) / (HISTORY_DAYS * day)
    weight = weight * np.clip(span, 0.03, 1.0)
    total = ctx.purchases_per_customer * n
    if total > 0 and weight.sum() > 0:
        counts = rng.poisson(weight * (total / weight.sum()))
        counts = np.where(prospect, 0, np.maximum(counts, 1))
        tourists = seg == 3
        counts[tourists] = np.minimum(counts[tourists], 2)
    else:
        counts = np.zeros(n, dtype=np.int64)
    if bench_row is not None:
        counts[bench_row] = BENCH_HISTORY
    if portal_row is not None and total > 0:
        counts[portal_row] = max(counts[portal_row], 4)  # the portal has something to show
    p_cust = np.repeat(np.arange(n), counts)
    p_k = np.arange(len(p_cust)) - np.repeat(np.cumsum(counts) - counts, counts)
    p_time = (
        buy_start[p_cust] + (buy_end[p_cust] - buy_start[p_cust]) * rng.random(len(p_cust))
    ).astype(np.int64)
    products = [np.array(s.products) for s in SEGMENTS]
    product = np.empty(len(p_cust), dtype=np.int64)
    p_seg = seg[p_cust]
    for si, prods in enumerate(products):
        rows = np.flatnonzero(p_seg == si)
        product[rows] = prods[rng.integers(0, len(prods), len(rows))]
    base = np.array([c[2] for c in CATALOGUE])[product]
    scale = np.array([s.price_scale for s in SEGMENTS])[p_seg]
    amount = np.round(
        base * scale * rng.lognormal(0.0, 0.35, len(p_cust)) * rng.integers(1, 4, len(p_cust)), 2
    )
    p_ord = ords[p_cust].tolist()
    out["purchase"] = {
        "customer_id": ids[p_cust],
        "reference": [f"INV-{o:07d}-{k:04d}" for o, k in zip(p_ord, p_k.tolist(), strict=True)],
        "amount": amount,
        "currency": np.full(len(p_cust), "EUR", dtype=object),
        "occurred_at": p_time.astype("datetime64[s]"),
        "product": np.array([c[0] for c in CATALOGUE], dtype=object)[product],
        "category": np.array([c[1] for c in CATALOGUE], dtype=object)[product],
        "created_at": p_time.astype("datetime64[s]"),
    }

    if ctx.with_interactions:
        out["interaction"] = _interactions(
            ctx,
            ids=ids,
            seg=seg,
            stage=stage,
            status=status,
            created_s=created_s,
            manager=manager,
            managed=managed,
            bench_row=bench_row,
        )
    return out


def _interactions(
    ctx: Context, *, ids, seg, stage, status, created_s, manager, managed, bench_row
) -> dict:
    rng = ctx.rng
    n = len(ids)
    now_s = _seconds(ctx.now)
    day = 86_400
    weight = np.array([s.interaction_weight for s in SEGMENTS])[seg] * STAGE_CONTACT_FACTOR[stage]
    total = ctx.interactions_per_customer * n
    counts = (
        rng.poisson(weight * (total / weight.sum())) if total > 0 else np.zeros(n, dtype=np.int64)
    )
    if bench_row is not None:
        counts[bench_row] = BENCH_HISTORY
    i_cust = np.repeat(np.arange(n), counts)
    m = len(i_cust)
    start = np.minimum(created_s[i_cust], now_s - day)
    occurred = (start + (now_s - start) * rng.random(m)).astype(np.int64)
    unhappy = status[i_cust] > 0
    kind = _pick_rows(rng, np.array([KIND_PROBS, UNHAPPY_KIND_PROBS]), unhappy.astype(np.int64))
    complaint = kind == KINDS.index("complaint")
    sentiment = np.array([-1, 0, 0, 1, 1, 2])[rng.integers(0, 6, m)]
    sentiment[complaint] = np.array([-2, -1, -1, 0])[rng.integers(0, 4, complaint.sum())]
    subject_idx = rng.integers(0, 12, m)
    subjects = [
        SUBJECTS[KINDS[k]][s % len(SUBJECTS[KINDS[k]])]
        for k, s in zip(kind.tolist(), subject_idx.tolist(), strict=True)
    ]
    # The customer's manager writes it; unmanaged customers reach whoever is on duty.
    author = np.where(
        managed[i_cust],
        ctx.manager_ids[manager[i_cust]],
        ctx.manager_ids[rng.integers(0, len(ctx.manager_ids), m)],
    )
    # Some interactions ask for a follow-up; the past ones are mostly done.
    today_d = np.datetime64(ctx.today, "D")
    wants = rng.random(m) < 0.10
    follow_up = occurred.astype("datetime64[s]").astype("datetime64[D]") + rng.integers(
        3, 22, m
    ).astype("timedelta64[D]")
    follow_up[~wants] = np.datetime64("NaT")
    past = wants & (follow_up < today_d - np.timedelta64(2, "D"))
    done = past & (rng.random(m) < 0.95)
    done_s = np.full(m, np.datetime64("NaT"), dtype="datetime64[s]")
    done_s[done] = follow_up[done].astype("datetime64[s]") + np.timedelta64(10 * 3600, "s")
    cols = {
        "customer_id": ids[i_cust],
        "author_id": author,
        "channel": np.array(CHANNELS, dtype=object)[_pick(rng, CHANNEL_PROBS, m)],
        "kind": np.array(KINDS, dtype=object)[kind],
        "occurred_at": occurred.astype("datetime64[s]"),
        "subject": subjects,
        "notes": np.array(NOTES, dtype=object)[rng.integers(0, len(NOTES), m)],
        "sentiment": sentiment,
        "follow_up_on": follow_up,
        "follow_up_done_at": done_s,
        "created_at": occurred.astype("datetime64[s]"),
    }
    # Every manager opens the demo with follow-ups due around today.
    extra = _due_follow_ups(
        ctx, ids=ids, managed=managed, manager=manager, status=status, bench_row=bench_row
    )
    if extra:
        for key, values in extra.items():
            base = cols[key]
            if isinstance(base, list):
                cols[key] = base + list(values)
            else:
                cols[key] = np.concatenate([base, np.asarray(values, dtype=base.dtype)])
    return cols


def _due_follow_ups(ctx: Context, *, ids, managed, manager, status, bench_row) -> dict | None:
    if ids[0] != ctx.first_customer_id:  # only in the first batch
        return None
    rng = ctx.rng
    offsets = [-3, -1, 0, 0, 1, 2, 4]
    rows: dict[str, list] = {
        k: []
        for k in (
            "customer_id",
            "author_id",
            "channel",
            "kind",
            "occurred_at",
            "subject",
            "notes",
            "sentiment",
            "follow_up_on",
            "follow_up_done_at",
            "created_at",
        )
    }
    for mi in range(len(MANAGERS)):
        own = np.flatnonzero(managed & (manager == mi) & (status == 0))
        own = own[own != bench_row][: len(offsets)]  # its history stays at exactly 1,000
        for j, row in enumerate(own.tolist()):
            complaint = j in (1, 4)
            when = ctx.now - dt.timedelta(days=int(rng.integers(1, 10)), hours=int(j))
            rows["customer_id"].append(int(ids[row]))
            rows["author_id"].append(int(ctx.manager_ids[mi]))
            rows["channel"].append("phone" if j % 2 else "email")
            rows["kind"].append("complaint" if complaint else ("sale" if j % 3 else "check_in"))
            rows["occurred_at"].append(np.datetime64(when.replace(tzinfo=None), "s"))
            rows["subject"].append(
                "Complaint: invoice sent twice" if complaint else "Call back about the renewal"
            )
            rows["notes"].append("Promised an answer by the follow-up date.")
            rows["sentiment"].append(-1 if complaint else 1)
            rows["follow_up_on"].append(
                np.datetime64(ctx.today + dt.timedelta(days=offsets[j]), "D")
            )
            rows["follow_up_done_at"].append(np.datetime64("NaT"))
            rows["created_at"].append(np.datetime64(when.replace(tzinfo=None), "s"))
    return rows


# --- the run ------------------------------------------------------------------------------


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
    interaction_model = _interaction_model()
    postgres = connection.vendor == "postgresql"
    writer = Writer(now)

    def step(label: str, started: float) -> float:
        elapsed = time.perf_counter() - started
        result.timings.append((label, elapsed))
        log(f"  {label}: {elapsed:.1f} s")
        return time.perf_counter()

    t = time.perf_counter()
    with transaction.atomic():
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
            portal_user = None  # already linked to a record from an earlier run
        segments = []
        for spec in SEGMENTS:
            segment, _ = Segment.objects.get_or_create(
                name=spec.name,
                defaults={"description": spec.description, "inactivity_days": spec.inactivity_days},
            )
            segments.append(segment.pk)
        Tag.objects.bulk_create([Tag(name=n) for n in TAGS], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=TAGS).values_list("name", "id"))
        first_id = _reserve_customer_ids(customers)
        ctx = Context(
            rng=np.random.default_rng(seed),
            now=now,
            today=timezone.localdate(now),
            segment_ids=np.array(segments, dtype=np.int64),
            tag_ids=np.array([tag_ids[n] for n in TAGS], dtype=np.int64),
            manager_ids=np.array([m.pk for m in managers], dtype=np.int64),
            admin_id=admin.pk,
            customer_user_id=portal_user.pk if portal_user else None,
            purchases_per_customer=purchases_per_customer,
            interactions_per_customer=interactions_per_customer,
            bench_customer=bench_customer,
            with_interactions=interaction_model is not None,
            first_customer_id=first_id,
        )
        t = step("users, segments, tags", t)

        targets = {
            "customer": Customer,
            "tags": Customer.tags.through,
            "assignment": AccountManagerAssignment,
            "stage_change": StageChange,
            "purchase": Purchase,
        }
        if interaction_model is not None:
            targets["interaction"] = interaction_model
        expected_rows = customers * (1 + purchases_per_customer + interactions_per_customer)
        rebuild = None
        if postgres and expected_rows >= REBUILD_INDEXES_FROM_ROWS:
            rebuild = IndexRebuild([m._meta.db_table for m in targets.values()])
            rebuild.drop()
            t = step("drop secondary indexes and foreign keys", t)

        generate_seconds = 0.0
        done = 0
        while done < customers:
            n = min(batch_size, customers - done)
            g = time.perf_counter()
            batch = generate_batch(ctx, first_id=first_id + done, ordinal=done, n=n)
            generate_seconds += time.perf_counter() - g
            for key, model in targets.items():  # parents before children
                if key in batch:
                    writer.write(model, batch[key])
            done += n
            if progress:
                progress(n)
        result.timings.append(("generate rows (numpy)", generate_seconds))
        log(f"  generate rows (numpy): {generate_seconds:.1f} s")
        for model in targets.values():
            table = model._meta.db_table
            label = f"write {table} ({writer.rows.get(table, 0):,} rows)"
            result.timings.append((label, writer.seconds.get(table, 0.0)))
            log(f"  {label}: {writer.seconds.get(table, 0.0):.1f} s")
        t = time.perf_counter()
        if rebuild is not None:
            rebuild.restore()
            t = step("rebuild indexes and foreign keys", t)
    t = step("commit", t)
    if postgres:
        tables = [m._meta.db_table for m in targets.values()]
        with connection.cursor() as c:
            for table in tables:
                if connection.in_atomic_block:
                    c.execute(f'ANALYZE "{table}"')
                else:
                    # Outside a transaction: also set the visibility map for index-only scans.
                    c.execute(f'VACUUM (ANALYZE) "{table}"')
        step("vacuum/analyze", t)
    result.rows = dict(writer.rows)
    return result


def iter_timings(result: SeedResult) -> Iterable[str]:
    for label, seconds in result.timings:
        yield f"{label}: {seconds:.1f} s"
