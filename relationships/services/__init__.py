"""Writes on relationships with a business rule: keyword-only, one transaction per use case,
a customers.errors ApplicationError when refused. Callers import them from here."""

from .analytics import defection_record, strategy_save
from .interactions import follow_up_complete, interaction_log
from .ladder import ladder_move, ladder_suggestion_decide
from .ladder_rules import ladder_suggestions_refresh
from .plans import action_add, action_mark_done, plan_save

__all__ = [
    "action_add",
    "action_mark_done",
    "defection_record",
    "follow_up_complete",
    "interaction_log",
    "ladder_move",
    "ladder_suggestion_decide",
    "ladder_suggestions_refresh",
    "plan_save",
    "strategy_save",
]
