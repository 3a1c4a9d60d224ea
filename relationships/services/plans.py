"""Writes on corrective plans and their actions: admins create and change them, an
action's owner marks it done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import User

from ..models import ActionStatus, CorrectiveAction, CorrectivePlan, DefectionReason, PlanStatus


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only admins create and change corrective plans.")


def _check_staff(users: Iterable[User], field: str) -> None:
    for user in users:
        if not user.is_staff_member:
            raise ValidationFailed(f"{user} is not staff.", field=field)


@transaction.atomic
def plan_save(
    *,
    actor: User,
    title: str,
    owner: User,
    causes: list[DefectionReason],
    description: str = "",
    recovery_team: list[User] | None = None,
    status: str = PlanStatus.DRAFT,
    started_on: dt.date | None = None,
    plan: CorrectivePlan | None = None,
) -> CorrectivePlan:
    """Create a plan, or change `plan`. An active or done plan needs its start date: the
    before/after comparison on the plan page pivots on it."""
    _require_admin(actor)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("Give the plan a title.", field="title")
    if not causes:
        raise ValidationFailed("Choose at least one cause the plan addresses.", field="causes")
    if status not in PlanStatus.values:
        raise ValidationFailed(f"Unknown status {status!r}.", field="status")
    if status != PlanStatus.DRAFT and started_on is None:
        raise ValidationFailed(
            "An active or done plan needs the day it started.", field="started_on"
        )
    _check_staff([owner], "owner")
    team = list(recovery_team or [])
    _check_staff(team, "recovery_team")
    if plan is None:
        plan = CorrectivePlan(created_by=actor)
    else:
        plan = CorrectivePlan.objects.select_for_update().get(pk=plan.pk)
    plan.title = title[:200]
    plan.description = description or ""
    plan.owner = owner
    plan.status = status
    plan.started_on = started_on
    plan.save()
    plan.causes.set(causes)
    plan.recovery_team.set(team)
    return plan


@transaction.atomic
def action_add(
    *,
    actor: User,
    plan: CorrectivePlan,
    description: str,
    owner: User,
    due_on: dt.date | None = None,
) -> CorrectiveAction:
    _require_admin(actor)
    description = (description or "").strip()
    if not description:
        raise ValidationFailed("Say what is to be done.", field="description")
    _check_staff([owner], "owner")
    if plan.status == PlanStatus.DONE:
        raise Conflict("This plan is done; reopen it to add actions.")
    return CorrectiveAction.objects.create(
        plan=plan, description=description[:300], owner=owner, due_on=due_on
    )


@transaction.atomic
def action_mark_done(*, actor: User, action: CorrectiveAction) -> CorrectiveAction:
    """The action's owner (or an admin) marks it done; doing it twice changes nothing."""
    if not (actor.is_admin or (actor.is_staff_member and action.owner_id == actor.pk)):
        raise NotAllowed("Only the action's owner or an admin marks it done.")
    locked = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
    if locked.status != ActionStatus.DONE:
        locked.status = ActionStatus.DONE
        locked.done_at = timezone.now()
        locked.save(update_fields=["status", "done_at"])
    return locked
