"""Two customers merged (customers.hooks): the rows of this app that allow one per
customer. Interactions, defections and closed flags are plain rows that customers moves
on its own; here the survivor keeps its open risk flag, open ladder suggestion and
strategic assessment, and the nightly numbers are dropped for the next run to recompute
from the merged history."""

from __future__ import annotations

from django.utils import timezone

from customers.hooks import MergeContext

from ..models import (
    CustomerMetrics,
    LadderSuggestion,
    RiskFlag,
    StrategicAssessment,
    SuggestionStatus,
)


def relationships_merge(context: MergeContext) -> None:
    survivor, absorbed = context.survivor, context.absorbed
    if CustomerMetrics.objects.filter(customer=absorbed).delete()[0]:
        context.notes.append("The nightly figures are recomputed for the survivor next night.")
    if StrategicAssessment.objects.filter(customer=survivor).exists():
        if StrategicAssessment.objects.filter(customer=absorbed).delete()[0]:
            context.notes.append("The survivor's strategic assessment was kept.")
    else:
        context.moved["Strategic assessments"] += StrategicAssessment.objects.filter(
            customer=absorbed
        ).update(customer=survivor)
    if RiskFlag.objects.filter(customer=survivor, cleared_on__isnull=True).exists():
        cleared = RiskFlag.objects.filter(customer=absorbed, cleared_on__isnull=True).update(
            cleared_on=timezone.localdate()
        )
        if cleared:
            context.notes.append("Both were flagged at risk; the survivor's flag stays open.")
    if LadderSuggestion.objects.filter(customer=survivor, status=SuggestionStatus.OPEN).exists():
        LadderSuggestion.objects.filter(customer=absorbed, status=SuggestionStatus.OPEN).update(
            status=SuggestionStatus.DISMISSED,
            decided_by=context.actor,
            decided_at=timezone.now(),
        )
    for model in (RiskFlag, LadderSuggestion):
        context.moved[str(model._meta.verbose_name_plural).capitalize()] += model.objects.filter(
            customer=absorbed
        ).update(customer=survivor)
