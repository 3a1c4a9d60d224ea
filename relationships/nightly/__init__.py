"""The nightly run: set-based SQL aggregates -> numpy -> bulk writes, one transaction
under a lock, idempotent per run date ("as of midnight starting that day"). Its steps, in
order (``run.STEPS``), each reading what the previous ones left in the ``RunContext``:

1. ``metrics`` (loading.py): one aggregate per table (purchases, interactions, loyalty
   points) into per-customer numpy arrays; never a query per customer.
2. ``model_fit`` (fit.py): BG/NBD and Gamma-Gamma on a seeded sample, with a holdout error.
3. ``scores`` (scores.py): P(alive), CLV, value tiers, risk score and reasons; dashboard counts.
4. ``flags`` and 5. ``ladder`` (flags.py): at-risk flags raised and cleared; ladder moves suggested.
6. ``write_metrics`` (write.py): CustomerMetrics rewritten (binary COPY, pg_copy.py, on PostgreSQL).
7. ``retention`` (retention.py): RetentionSnapshot rows per period x cut, while 6 finishes.

A full night reads the whole book. An incremental one (incremental.py; PostgreSQL only)
starts from the arrays the previous night kept, reads again only the customers something
happened to, reuses the last full night's fit and retention, scores everyone and writes
only what changed; "auto" falls back to full weekly, on a new month, after a configuration
change, or when too much of the book changed (docs/analytics.md, section 9).
"""

from .context import (
    IncrementalNotPossible,
    NightlyRunBusy,
    RunContext,
    holdout_days,
    risk_threshold,
    run_date_as_of,
)
from .run import STEPS, nightly_run

__all__ = [
    "STEPS",
    "IncrementalNotPossible",
    "NightlyRunBusy",
    "RunContext",
    "holdout_days",
    "nightly_run",
    "risk_threshold",
    "run_date_as_of",
]
