"""Figures the menu shows on every staff page."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest

from relationships.selectors import follow_ups_due_now


def menu_counts(request: HttpRequest) -> dict[str, Any]:
    """The Follow-ups badge: open follow-ups due today or overdue. A callable, so the count
    is read only when a page draws the menu, and once."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff_member:
        return {}

    @cache
    def due_now() -> int:
        return follow_ups_due_now(user=user)

    return {"menu_follow_ups_due": due_now}
