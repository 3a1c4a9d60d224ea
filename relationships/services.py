"""Writes on relationships: logging interactions and closing follow-ups."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from customers.errors import NotAllowed, ValidationFailed
from customers.models import Customer, User
from customers.selectors import customers_visible_to

from .models import Channel, Interaction, InteractionKind, Sentiment


@transaction.atomic
def interaction_log(
    *,
    customer: Customer,
    author: User,
    channel: str,
    kind: str,
    subject: str,
    notes: str = "",
    occurred_at: dt.datetime | None = None,
    sentiment: int = Sentiment.NEUTRAL,
    follow_up_on: dt.date | None = None,
) -> Interaction:
    """Log a touchpoint. Staff may log only on customers they can see."""
    if not author.is_staff_member:
        raise NotAllowed("Only staff log interactions here.")
    if not customers_visible_to(author).filter(pk=customer.pk).exists():
        raise NotAllowed("This customer is not in your book.")
    subject = (subject or "").strip()
    if not subject:
        raise ValidationFailed("Say in a few words what it was about.", field="subject")
    if channel not in Channel.values:
        raise ValidationFailed(f"Unknown channel {channel!r}.", field="channel")
    if kind not in InteractionKind.values:
        raise ValidationFailed(f"Unknown kind {kind!r}.", field="kind")
    if sentiment not in Sentiment.values:
        raise ValidationFailed("Sentiment runs from -2 to 2.", field="sentiment")
    now = timezone.now()
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        raise ValidationFailed("The time must include a time zone.", field="occurred_at")
    if occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationFailed("An interaction cannot happen in the future.", field="occurred_at")
    if follow_up_on is not None and follow_up_on < occurred_at.date():
        raise ValidationFailed(
            "The follow-up must be on or after the interaction.", field="follow_up_on"
        )
    return Interaction.objects.create(
        customer=customer,
        author=author,
        channel=channel,
        kind=kind,
        subject=subject[:200],
        notes=notes or "",
        occurred_at=occurred_at,
        sentiment=sentiment,
        follow_up_on=follow_up_on,
    )


@transaction.atomic
def follow_up_complete(*, actor: User, interaction: Interaction) -> Interaction:
    if not customers_visible_to(actor).filter(pk=interaction.customer_id).exists():
        raise NotAllowed("This customer is not in your book.")
    locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
    if locked.follow_up_on is None:
        raise ValidationFailed("This interaction has no follow-up.")
    if locked.follow_up_done_at is None:
        locked.follow_up_done_at = timezone.now()
        locked.save(update_fields=["follow_up_done_at"])
    return locked


# --- Ladder of loyalty: moves by hand and decisions on rule suggestions ------------------

from customers.errors import Conflict  # noqa: E402
from customers.models import Stage, StageChange  # noqa: E402

from .models import (  # noqa: E402
    ActionStatus,
    CorrectiveAction,
    CorrectivePlan,
    DefectionReason,
    LadderSuggestion,
    PlanStatus,
    SuggestionStatus,
)


def _move(*, customer: Customer, to_stage: str, actor: User, rule: str, reason: str) -> StageChange:
    """Move a locked customer and record the move in the same transaction."""
    change = StageChange.objects.create(
        customer=customer, from_stage=customer.stage, to_stage=to_stage,
        changed_by=actor, rule=rule, reason=reason[:300],
    )
    customer.stage = to_stage
    customer.save(update_fields=["stage", "updated_at"])
    return change


def _lock_visible_customer(actor: User, customer: Customer) -> Customer:
    if not actor.is_staff_member:
        raise NotAllowed("Only staff move customers on the ladder.")
    locked = customers_visible_to(actor).select_for_update().filter(pk=customer.pk).first()
    if locked is None:
        raise NotAllowed("This customer is not in your book.")
    return locked


@transaction.atomic
def ladder_move(*, actor: User, customer: Customer, to_stage: str, reason: str) -> StageChange:
    """An account manager (or admin) moves a customer up or down the ladder by hand."""
    reason = (reason or "").strip()
    if to_stage not in Stage.values:
        raise ValidationFailed(f"Unknown ladder stage {to_stage!r}.", field="to_stage")
    if not reason:
        raise ValidationFailed("Say why the customer moves.", field="reason")
    locked = _lock_visible_customer(actor, customer)
    if locked.stage == to_stage:
        raise ValidationFailed(
            f"{locked.name} is already a {Stage(to_stage).label.lower()}.", field="to_stage"
        )
    change = _move(customer=locked, to_stage=to_stage, actor=actor, rule="", reason=reason)
    # An open suggestion was made for the old rung; the next refresh suggests afresh.
    LadderSuggestion.objects.filter(customer=locked, status=SuggestionStatus.OPEN).delete()
    customer.stage = locked.stage
    return change


@transaction.atomic
def ladder_suggestion_decide(
    *, actor: User, suggestion: LadderSuggestion, accept: bool
) -> LadderSuggestion:
    """Accept (the customer moves, recorded with the rule and its reason) or dismiss."""
    customer = _lock_visible_customer(actor, suggestion.customer)
    locked = LadderSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if locked.status != SuggestionStatus.OPEN:
        raise Conflict(f"This suggestion was already {locked.get_status_display().lower()}.")
    if accept:
        if customer.stage != locked.from_stage:
            raise Conflict(
                f"{customer.name} has moved to {customer.get_stage_display().lower()} since this "
                "suggestion was made; dismiss it."
            )
        _move(customer=customer, to_stage=locked.to_stage, actor=actor, rule=locked.rule, reason=locked.reason)
    locked.status = SuggestionStatus.ACCEPTED if accept else SuggestionStatus.DISMISSED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


# --- Corrective plans (relationship-marketing practice, step 4) ----------------------------


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only admins create and change corrective plans.")


def _check_staff(users, field: str) -> None:
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
        raise ValidationFailed("An active or done plan needs the day it started.", field="started_on")
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
    *, actor: User, plan: CorrectivePlan, description: str, owner: User, due_on: dt.date | None = None
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
