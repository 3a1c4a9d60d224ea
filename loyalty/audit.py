"""What the audit log (django-auditlog) records of this app: the loyalty configuration
(programs, tiers, earning rules, rewards, offers) and manual points adjustments.

Only adjustments among ledger entries: earning, redeeming and expiring are already the
ledger's own history, and logging them would double the writes of every purchase."""

from typing import Any

from auditlog.registry import auditlog
from auditlog.signals import pre_log

from customers.audit import own_fields

from .models import EarningRule, EntryKind, LedgerEntry, Offer, Program, Reward, Tier


def _adjustments_only(sender: type, instance: LedgerEntry, **kwargs: Any) -> bool:
    # auditlog writes nothing when a pre_log receiver answers False.
    return instance.kind == EntryKind.ADJUST


def register() -> None:
    auditlog.register(Program, include_fields=own_fields(Program), m2m_fields={"eligible_segments"})
    auditlog.register(Tier, include_fields=own_fields(Tier))
    auditlog.register(EarningRule, include_fields=own_fields(EarningRule))
    # Redemptions take stock with a queryset update: only an admin's edit of it is logged.
    auditlog.register(Reward, include_fields=own_fields(Reward), m2m_fields={"tiers"})
    auditlog.register(Offer, include_fields=own_fields(Offer))
    # What an adjustment is; `remaining` is bookkeeping the ledger updates set-based.
    auditlog.register(LedgerEntry, include_fields=own_fields(LedgerEntry, leave_out={"remaining"}))
    pre_log.connect(_adjustments_only, sender=LedgerEntry, dispatch_uid="loyalty.audit")
