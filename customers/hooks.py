"""The explicit hooks other apps use: reacting to purchases, recording why an imported
customer defected, and moving their rows when two customers are merged.

`customers` imports no other app; apps that care about purchases (loyalty) subscribe
here from their AppConfig.ready(). Listeners run inside the purchase's own
transaction, so whatever they write (points) commits or rolls back with it.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .models import Customer, Purchase, User

# What a listener returns is ignored (loyalty returns the ledger entries it wrote).
PurchaseListener = Callable[["Purchase"], object]

_purchase_listeners: list[PurchaseListener] = []


def on_purchase_recorded(listener: PurchaseListener) -> PurchaseListener:
    """Subscribe a listener; usable as a decorator. Subscribing twice is a no-op."""
    if listener not in _purchase_listeners:
        _purchase_listeners.append(listener)
    return listener


def notify_purchase_recorded(purchase: "Purchase") -> None:
    for listener in _purchase_listeners:
        listener(purchase)


# --- Defected customers in an import ------------------------------------------------------
# A defection needs its reason, which `customers` does not model: the app that records
# defections (relationships) provides, from its AppConfig.ready(), what checks a defected
# row's defection columns and writes the defection with the imported customer.


class DefectionImport(Protocol):
    """One per import job: `preload` once, `clean` each defected row (raising
    ValidationFailed that names the column), `write` the defections of the customers just
    created, inside the import's own transaction."""

    def preload(self) -> None: ...
    def clean(self, row: dict[str, str], fields: dict[str, Any]) -> object: ...
    def write(self, *, actor: "User", rows: list[tuple["Customer", object]]) -> None: ...


_defection_import: Callable[[], DefectionImport] | None = None


def provide_defection_import(factory: Callable[[], DefectionImport]) -> None:
    """Register what handles defected rows in a customer import (one provider)."""
    global _defection_import
    _defection_import = factory


def defection_import() -> DefectionImport | None:
    """A fresh handler for one import job, or None when no app records defections."""
    return _defection_import() if _defection_import is not None else None


# --- Merging two customers ----------------------------------------------------------------
# A merge moves every row that points at the absorbed customer to the survivor. `customers`
# moves its own rows and, generically, any plain foreign key left; an app whose rows need
# care (one membership per program, one open flag, one review per product) subscribes a
# listener from its AppConfig.ready(). Listeners run inside the merge's one transaction,
# with both customers locked, before the absorbed record is deleted.


@dataclass
class MergeContext:
    """What a merge listener gets: both customers (locked), who merges, and where to
    count what it moved (`moved["Loyalty memberships"] += 1`) and note what it decided."""

    survivor: "Customer"
    absorbed: "Customer"
    actor: "User"
    moved: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


MergeListener = Callable[[MergeContext], None]

_merge_listeners: list[MergeListener] = []


def on_customers_merged(listener: MergeListener) -> MergeListener:
    """Subscribe a merge listener; usable as a decorator. Subscribing twice is a no-op."""
    if listener not in _merge_listeners:
        _merge_listeners.append(listener)
    return listener


def notify_customers_merged(context: MergeContext) -> None:
    for listener in _merge_listeners:
        listener(context)
