"""Writes on relationships with a business rule: keyword-only, one transaction per use case,
a customers.errors ApplicationError when refused. Callers import them from here."""

from .analytics import strategy_save
from .defections import (
    DefectionImportRows,
    check_not_already_defected,
    defection_clean,
    defection_record,
)
from .follow_ups import (
    follow_up_add,
    follow_up_complete,
    follow_up_reassign,
    follow_up_reschedule,
)
from .interactions import complaint_root_cause_set, interaction_log
from .ladder import ladder_move, ladder_suggestion_decide
from .ladder_rules import ladder_suggestions_refresh
from .plans import action_add, action_mark_done, plan_save
from .risk import clean_handled_note, risk_flag_handle
from .segments import FULL_NIGHT_RECOMPUTES, SegmentSaved, segment_strategy_save

__all__ = [
    "FULL_NIGHT_RECOMPUTES",
    "DefectionImportRows",
    "SegmentSaved",
    "action_add",
    "action_mark_done",
    "check_not_already_defected",
    "clean_handled_note",
    "complaint_root_cause_set",
    "defection_clean",
    "defection_record",
    "follow_up_add",
    "follow_up_complete",
    "follow_up_reassign",
    "follow_up_reschedule",
    "interaction_log",
    "ladder_move",
    "ladder_suggestion_decide",
    "ladder_suggestions_refresh",
    "plan_save",
    "risk_flag_handle",
    "segment_strategy_save",
    "strategy_save",
]
