"""Reads for the program builder: the configuration changes made and waiting."""

from __future__ import annotations

from django.db.models import Q

from ..models import ChangeStatus, ConfigChange, Program


def config_changes(
    *, program: Program, scheduled: bool = False, limit: int = 30
) -> list[ConfigChange]:
    """The program's recorded changes (and those of offers that belong to no program),
    newest first; or the changes waiting for their date, soonest first."""
    rows = ConfigChange.objects.filter(Q(program=program) | Q(program__isnull=True))
    if scheduled:
        rows = rows.filter(status=ChangeStatus.SCHEDULED).order_by("effective_on", "id")
    else:
        rows = rows.exclude(status=ChangeStatus.SCHEDULED)
    return list(rows.select_related("actor")[:limit])
