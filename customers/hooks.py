"""The one explicit hook other apps use to react to purchases.

`customers` imports no other app; apps that care about purchases (loyalty) subscribe
here from their AppConfig.ready(). Listeners run inside the purchase's own
transaction, so whatever they write (points) commits or rolls back with it.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Purchase

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
