"""The account manager's card in the portal. Whether a customer gets a named contact is
the segment's relationship strategy (dedicated personal assistance), which the
relationships app knows and this app may not import: the composition root registers the
rule (crm.apps), and without one no card is shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..models import Customer

DedicatedAssistanceRule = Callable[[Customer], bool]

_RULES: list[DedicatedAssistanceRule] = []


def register_dedicated_assistance_rule(rule: DedicatedAssistanceRule) -> None:
    if rule not in _RULES:
        _RULES.append(rule)


def contact_card(customer: Customer) -> dict[str, Any] | None:
    """Name and e-mail of the customer's account manager, when their relationship includes
    one (an active manager, and a registered rule that says so)."""
    manager = customer.account_manager
    if manager is None or not manager.is_active:
        return None
    if not any(rule(customer) for rule in _RULES):
        return None
    return {"name": str(manager), "first_name": manager.get_short_name(), "email": manager.email}
