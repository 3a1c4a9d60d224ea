"""Reads on at-risk flags: the queue (ordered, paged by keyset), one flag, the customer
page's risk panel, and what happened since the nightly numbers (contacted, bought)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from customers.dates import local_midnight
from customers.models import Customer, Purchase, Role, User
from customers.selectors import customer_is_visible_to

from ..analytics.valuation import TIER_ADVICE
from ..models import (
    CustomerMetrics,
    Interaction,
    NightlyRun,
    RelationshipStrategy,
    RiskFlag,
    RunStatus,
)
from .analytics import risk_flags_visible_to

# The queue's order: unhandled flags first (re-raised ones count as unhandled), then the
# most value at risk. The partial index riskflag_open_queue has exactly these columns.
QUEUE_ORDER = ("handled", "-value_at_risk", "-score", "id")
STAFF_ROLES = (Role.ADMIN, Role.ACCOUNT_MANAGER)


@dataclass(frozen=True)
class LiveSince:
    """Where "today" starts for the live signals on a flag. Normally local midnight, which
    is also where the last night's data ends; when the last successful night is older (it
    has not run yet, or failed), from where its data ends: anything after that is news
    the flag's numbers do not know."""

    at: dt.datetime
    is_today: bool

    @property
    def day(self) -> dt.date:
        return timezone.localtime(self.at).date()


def live_since() -> LiveSince:
    midnight = local_midnight(timezone.localdate())
    last = NightlyRun.objects.filter(status=RunStatus.SUCCEEDED).aggregate(d=Max("run_date"))["d"]
    if last is not None and local_midnight(last) < midnight:
        return LiveSince(at=local_midnight(last), is_today=False)
    return LiveSince(at=midnight, is_today=True)


def live_signals(since: LiveSince) -> tuple[Exists, Exists]:
    """For rows with a customer_id (flags, metrics), to annotate as `contacted_today` and
    `bought_today`: staff (any manager or admin) logged an interaction with the customer
    that happened since `since`; the customer bought since then. Two EXISTS per row in
    the same statement, each a probe of the (customer, time) index; PostgreSQL evaluates
    them only for the rows the LIMIT keeps."""
    contacted = Interaction.objects.filter(
        customer=OuterRef("customer_id"), occurred_at__gte=since.at, author__role__in=STAFF_ROLES
    )
    bought = Purchase.objects.filter(customer=OuterRef("customer_id"), occurred_at__gte=since.at)
    return Exists(contacted), Exists(bought)


def with_live_signals(qs: QuerySet[RiskFlag], since: LiveSince) -> QuerySet[RiskFlag]:
    contacted, bought = live_signals(since)
    return qs.annotate(contacted_today=contacted, bought_today=bought)


def attach_live_signals(flags: list[RiskFlag], since: LiveSince) -> list[RiskFlag]:
    """The live signals of a page of flags already read, as two small queries probing the
    (customer, time) indexes for just those customers. For the page's 200 rows this beats
    the EXISTS annotations: PostgreSQL plans those for every open flag and hashes the whole
    day's interactions and purchases instead (55 ms on the bench book's busy day, 3 ms this way)."""
    ids = {f.customer_id for f in flags}
    contacted = set(
        Interaction.objects.filter(
            customer_id__in=ids, occurred_at__gte=since.at, author__role__in=STAFF_ROLES
        ).values_list("customer_id", flat=True)
    )
    bought = set(
        Purchase.objects.filter(customer_id__in=ids, occurred_at__gte=since.at).values_list(
            "customer_id", flat=True
        )
    )
    for flag in flags:
        flag.contacted_today = flag.customer_id in contacted  # type: ignore[attr-defined]
        flag.bought_today = flag.customer_id in bought  # type: ignore[attr-defined]
    return flags


def at_risk_queue(
    *, actor: User, since: LiveSince | None = None, live: bool = True
) -> QuerySet[RiskFlag]:
    """Open flags on the actor's book, the morning to-do: unhandled first, then the most
    value at risk. A manager sees the flags of the customers now in their book; an admin
    sees all. Each row says whether the customer was contacted or bought since the night."""
    qs = (
        risk_flags_visible_to(actor)
        .filter(cleared_on__isnull=True)
        .select_related(
            "customer",
            "customer__segment",
            "customer__account_manager",
            "customer__metrics",
            "handled_by",
        )
        .order_by(*QUEUE_ORDER)
    )
    # live=False: the caller reads a page and attaches the signals (attach_live_signals).
    return with_live_signals(qs, since or live_since()) if live else qs


def at_risk_counts(*, actor: User) -> dict[str, int]:
    """Open flags on the actor's book and how many of them are handled: one aggregate."""
    return (
        risk_flags_visible_to(actor)
        .filter(cleared_on__isnull=True)
        .aggregate(total=Count("id"), handled=Count("id", filter=Q(handled=True)))
    )


def risk_flag_get(*, actor: User, pk: int, since: LiveSince | None = None) -> RiskFlag:
    """One flag of the actor's book, open or cleared, with its live signals; outside the
    book a 404."""
    qs = risk_flags_visible_to(actor).select_related("customer", "handled_by")
    try:
        return with_live_signals(qs, since or live_since()).get(pk=pk)
    except (RiskFlag.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such risk flag.") from exc


@dataclass(frozen=True)
class QueuePosition:
    """The last row of a queue page: where the next page starts."""

    handled: bool
    value_at_risk: Decimal
    score: int
    id: int

    @classmethod
    def of(cls, flag: RiskFlag) -> QueuePosition:
        return cls(bool(flag.handled), flag.value_at_risk, flag.score, flag.pk)


def risk_queue_page(
    qs: QuerySet[RiskFlag], *, after: QueuePosition | None, limit: int
) -> list[RiskFlag]:
    """Up to `limit` flags of an at_risk_queue after `after`, in queue order. The queue is
    two runs, unhandled then handled; each is walked as one range scan of the partial index
    riskflag_open_queue (handled = h AND value_at_risk <= v, the rest of the position a
    filter on the index entries), so the thousandth page costs what the first does. A
    four-column row comparison cannot be one range: the columns run in mixed directions."""
    rows: list[RiskFlag] = []
    for handled in (False, True):
        if after is not None and handled < after.handled:
            continue
        run = qs.filter(handled=handled).order_by(*QUEUE_ORDER)
        if after is not None and handled == after.handled:
            v, s = after.value_at_risk, after.score
            run = run.filter(
                Q(value_at_risk__lte=v)
                & (
                    Q(value_at_risk__lt=v)
                    | Q(value_at_risk=v, score__lt=s)
                    | Q(value_at_risk=v, score=s, id__gt=after.id)
                )
            )
        rows += list(run[: limit - len(rows)])
        if len(rows) >= limit:
            break
    return rows


def customer_risk_panel(*, actor: User, customer: Customer) -> dict | None:
    """The customer 360 page's risk panel ({"template", "data"}); None when the actor may
    not see the customer or no nightly run has scored them yet. data["open_flag"] is the
    open RiskFlag (with its handling) while there is one, else None; data["contacted_today"]
    and data["bought_today"] say what happened since the numbers (data["since"])."""
    if not customer_is_visible_to(actor=actor, customer=customer):
        return None
    since = live_since()
    # One query for metrics, strategy, live signals and the open flag's id (joins and
    # subqueries); the open flag itself is read only when there is one.
    open_flags = RiskFlag.objects.filter(customer=OuterRef("customer"), cleared_on__isnull=True)
    contacted, bought = live_signals(since)
    metrics = (
        CustomerMetrics.objects.filter(customer=customer)
        .select_related("customer__segment__strategy")
        .annotate(
            open_flag_id=Subquery(open_flags.values("pk")[:1]),
            contacted_today=contacted,
            bought_today=bought,
        )
        .first()
    )
    if metrics is None:
        return None
    open_flag = None
    if metrics.open_flag_id is not None:
        open_flag = RiskFlag.objects.select_related("handled_by").get(pk=metrics.open_flag_id)
    segment = metrics.customer.segment
    strategy: RelationshipStrategy | None = getattr(segment, "strategy", None) if segment else None
    tier = (metrics.financial_band, metrics.strategic_band)
    data = {
        "metrics": metrics,
        "score": metrics.risk_score,
        "reasons": metrics.reasons,
        "clv_12m": metrics.clv_12m,
        "p_alive": metrics.p_alive,
        "value_at_risk": metrics.value_at_risk,
        "value_tier": metrics.value_tier,
        "tier_advice": TIER_ADVICE.get(tier, ""),
        "open_flag": open_flag,
        "since": since,
        "contacted_today": metrics.contacted_today,
        "bought_today": metrics.bought_today,
        "strategy": strategy,
        "relationship_types": strategy.relationship_type_labels if strategy else [],
        "goal": strategy.get_goal_display() if strategy else "",
        "rhythm": strategy.get_rhythm_display() if strategy else "",
        "computed_for": metrics.computed_for,
    }
    return {"template": "relationships/_risk_panel.html", "data": data}
