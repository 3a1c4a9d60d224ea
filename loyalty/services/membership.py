"""Who is a member: joining one by one, and enrolling a program's eligible customers at once."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import Customer, User

from ..models import JoinSource, Membership, Program, TierChange
from ._common import check_member_or_staff, local_today
from .earning import earn_event


def program_accepts(program: Program, customer: Customer) -> bool:
    segment_ids = {s.pk for s in program.eligible_segments.all()}
    return not segment_ids or customer.segment_id in segment_ids


def membership_join(
    *,
    program: Program,
    customer: Customer,
    actor: User | None = None,
    source: str = JoinSource.MANUAL,
    on: dt.date | None = None,
) -> Membership:
    day = on or local_today()
    if actor is not None:
        check_member_or_staff(actor, customer)
    if not program.is_active_on(day):
        raise ValidationFailed(f"{program} is not open on {day:%Y-%m-%d}.", field="program")
    if not program_accepts(program, customer):
        raise ValidationFailed(f"{customer}'s segment may not join {program}.", field="customer")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                program=program, customer=customer, join_source=source
            )
            base = program.tiers.filter(threshold=0).first()
            if base is not None:
                Membership.objects.filter(pk=membership.pk).update(tier=base, tier_since=day)
                membership.tier, membership.tier_since = base, day
                TierChange.objects.create(
                    membership=membership, to_tier=base, run_date=day, reason="Joined the program."
                )
            earn_event(membership=membership, event_code="sign_up", key="sign_up", day=day)
    except IntegrityError as exc:
        if Membership.objects.filter(program=program, customer=customer).exists():
            raise Conflict(f"{customer} is already a member of {program}.") from exc
        raise
    return membership


def program_enrol_eligible(*, program: Program, actor: User) -> int:
    """Join by rule: enrol every active customer of the eligible segments who is not yet a
    member, in one INSERT ... SELECT. Returns how many joined. (The sign-up bonus is for
    customers who join one by one; a bulk enrolment does not pay it.)"""
    if not actor.is_admin:
        raise NotAllowed("Only an admin can enrol customers by rule.")
    if not program.is_active_on(local_today()):
        raise ValidationFailed(f"{program} is not open today.", field="program")
    customers = Customer.objects.filter(status="active").exclude(memberships__program=program)
    segments = list(program.eligible_segments.values_list("pk", flat=True))
    if segments:
        customers = customers.filter(segment__in=segments)
    sql, params = (
        customers.order_by().annotate(cid=F("pk")).values_list("cid").query.sql_with_params()
    )
    base = program.tiers.filter(threshold=0).first()
    m = Membership._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {m} (program_id, customer_id, tier_id, tier_since, balance, pending_points, "  # noqa: S608
            f"joined_at, join_source) SELECT %s, s.cid, %s, %s, 0, 0, %s, 'rule' FROM ({sql}) s "
            f"WHERE true ON CONFLICT (customer_id, program_id) DO NOTHING",
            [
                program.pk,
                base.pk if base else None,
                local_today() if base else None,
                timezone.now(),
                *params,
            ],
        )
        return cur.rowcount
