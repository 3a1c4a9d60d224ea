"""The fields of Customer itself that the night reads, shared by the metrics step and the
check for customers edited since the previous night."""

from __future__ import annotations

import numpy as np

from customers.models import Customer, CustomerStatus, Stage

from .context import to_dates
from .sql import epoch_days_of_date, fetch_floats


def customer_rows(condition: str = "TRUE", params: list | None = None) -> np.ndarray:
    """(id, segment, manager, defected, stage rank, acquisition day) of the customers
    matching ``condition``, sorted by id: every field of Customer the night reads."""
    cust = Customer._meta.db_table
    stage_rank = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(Stage.values))
    rows = fetch_floats(
        f"SELECT id, COALESCE(segment_id, 0), COALESCE(account_manager_id, 0), "  # noqa: S608
        f"CASE WHEN status = %s THEN 1 ELSE 0 END, CASE stage {stage_rank} ELSE 0 END, "
        f"{epoch_days_of_date('acquired_on')} FROM {cust} WHERE {condition} ORDER BY id",
        [CustomerStatus.DEFECTED, *(params or [])],
        6,
    )
    return rows[np.argsort(rows[:, 0], kind="stable")]  # ids sorted for searchsorted


CUSTOMER_FIELDS = ("segment", "manager", "defected_status", "stage_rank", "acquired_on")


def customer_values(rows: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "segment": rows[:, 1].astype(np.int64),
        "manager": rows[:, 2].astype(np.int64),
        "defected_status": rows[:, 3] > 0,
        "stage_rank": rows[:, 4],
        "acquired_on": to_dates(rows[:, 5]),
    }
