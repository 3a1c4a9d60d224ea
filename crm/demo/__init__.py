"""The demo: a believable book of customers (or the benchmark's), generated fast and
deterministically by `seed_demo`, then completed by `demo_setup`.

- `catalogue`: logins, segments, products, names and words the book is made of;
- `generate`: numpy columns for a batch of customers and their history (seeded);
- `writer`: COPY on PostgreSQL, bulk_create on SQLite, index drop and rebuild;
- `run`: `seed`, one transaction around users, segments, tags and every batch;
- `setup`: strategies, a loyalty program and tonight's run, through the apps' services;
- `community`, `support`: the forums and support requests, through their services.

It lives in crm, the composition root, because it writes every app's tables.
"""

from .catalogue import (
    ADMIN_PASSWORD,
    BENCH_CUSTOMER_NAME,
    BENCH_HISTORY,
    CUSTOMER_PASSWORD,
    MANAGER_PASSWORD,
    PORTAL_CUSTOMER_NAME,
)
from .run import SeedResult, iter_timings, seed
from .setup import demo_admin, demo_setup, has_book

__all__ = [
    "ADMIN_PASSWORD",
    "BENCH_CUSTOMER_NAME",
    "BENCH_HISTORY",
    "CUSTOMER_PASSWORD",
    "MANAGER_PASSWORD",
    "PORTAL_CUSTOMER_NAME",
    "SeedResult",
    "demo_admin",
    "demo_setup",
    "has_book",
    "iter_timings",
    "seed",
]
