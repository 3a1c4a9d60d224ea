"""The explicit hooks other apps use: reacting to purchases, and recording why an
imported customer defected.

`customers` imports no other app; apps that care about purchases (loyalty) subscribe
here from their AppConfig.ready(). Listeners run inside the purchase's own
transaction, so whatever they write (points) commits or rolls back with it.
"""

from collections.abc import Callable
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
