"""Reads of the retention figures the nightly stored, and of the customers behind them.

A figure is honest only once its period is over: the run of the 3rd of a month knows two
days of it. So the dashboard's headline is the last **complete** period (its last day
before the run date), and the running one is drawn as partial.

The customers behind a figure are found by the rule it was counted by (docs/analytics.md,
section 1): a customer on day D has ``customer_since <= D`` and no ``churned_on`` or a
later one, both dates stored on CustomerMetrics by the full night that wrote the
snapshots. So the list is one indexed filter on the metrics rows, intersected with the
actor's book, and it holds exactly the customers the number counted (a customer handed to
another manager since that night is listed in their new manager's book).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from customers.errors import ValidationFailed
from customers.models import Customer, User
from customers.selectors import customers_visible_to

from ..analytics.retention import period_bounds
from ..models import CutKind, PeriodKind, RelationshipStrategy, RetentionSnapshot
from .analytics import latest_run_date, retention_snapshots_visible_to

PERIOD_UNITS: dict[str, str] = {"month": "month", "quarter": "quarter", "year": "year"}
# What each figure of a period counts, as the customer list's heading says it.
FIGURES = {
    "at_start": "Customers at the start of {period}",
    "retained": "Kept through {period}",
    "lost": "Lost during {period}",
    "new": "New in {period}, still customers at its end",
}


def period_label(kind: str, start: dt.date) -> str:
    """March 2026, Q1 2026 or 2026."""
    if kind == PeriodKind.QUARTER:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if kind == PeriodKind.YEAR:
        return str(start.year)
    return start.strftime("%B %Y")


def is_complete(snapshot: RetentionSnapshot) -> bool:
    return snapshot.is_complete


# --- Parameters: one parser for the dashboard, the API and the customer list ------------


def parse_period_kind(value: str | None, *, field: str = "period") -> str:
    if value is None or value == "":
        return PeriodKind.MONTH
    if value not in PeriodKind.values:
        raise ValidationFailed(
            f"Unknown period kind {value!r}: use month, quarter or year.", field=field
        )
    return value


def parse_day(value: str | None, *, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{value!r} is not a date: write it as YYYY-MM-DD (2026-03-31).", field=field
        ) from None


@dataclass(frozen=True)
class RetentionRange:
    """Which periods to show: their kind, and the days they must overlap (either open)."""

    period_kind: str = PeriodKind.MONTH
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def holds(self, snapshot: RetentionSnapshot) -> bool:
        return (self.date_from is None or snapshot.period_end >= self.date_from) and (
            self.date_to is None or snapshot.period_start <= self.date_to
        )


def retention_range(
    *,
    period_kind: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    fields: tuple[str, str, str] = ("period", "from", "to"),
) -> RetentionRange:
    """The range a request asks for, from its query parameters (``fields`` names them in
    the messages); ValidationFailed naming the parameter when one is wrong."""
    kind = parse_period_kind(period_kind, field=fields[0])
    start = parse_day(date_from, field=fields[1])
    end = parse_day(date_to, field=fields[2])
    if start and end and end < start:
        raise ValidationFailed(
            f"The range ends ({end}) before it starts ({start}): swap the two dates.",
            field=fields[2],
        )
    return RetentionRange(kind, start, end)


# --- The dashboard's figures -------------------------------------------------------------


@dataclass
class RetentionOverview:
    """One period kind of the latest run, for the actor's book, within a range."""

    run_date: dt.date
    range: RetentionRange
    periods: list[RetentionSnapshot]  # oldest first; the last may be running
    headline: RetentionSnapshot | None  # the last complete period in the range
    running: RetentionSnapshot | None  # the period still running, when in the range
    covered: tuple[dt.date, dt.date] | None  # what the run holds for this kind (any range)

    @property
    def unit(self) -> str:
        return PERIOD_UNITS[self.range.period_kind]


def retention_overview(*, actor: User, range: RetentionRange) -> RetentionOverview | None:
    """The latest run's periods of one kind for the actor's book (admins: the whole book;
    an account manager: the account-manager cut of their own), those in ``range``, the
    last complete one (the headline) and the running one. None before any run."""
    run_date = latest_run_date()
    if run_date is None:
        return None
    qs = retention_snapshots_visible_to(actor).filter(
        run_date=run_date, period_kind=range.period_kind
    )
    if actor.is_admin:
        qs = qs.filter(cut_kind=CutKind.ALL)
    every = list(qs.order_by("period_start"))
    periods = [s for s in every if range.holds(s)]
    complete = [s for s in periods if is_complete(s)]
    running = periods[-1] if periods and not is_complete(periods[-1]) else None
    return RetentionOverview(
        run_date=run_date,
        range=range,
        periods=periods,
        headline=complete[-1] if complete else None,
        running=running,
        covered=(every[0].period_start, every[-1].period_end) if every else None,
    )


def retention_cuts(
    *, actor: User, period_kind: str, period_start: dt.date, cut_kind: str
) -> list[RetentionSnapshot]:
    """One period's figures per cut (segments, relationship types, managers), for admins;
    cuts with nobody at the start are left out."""
    run_date = latest_run_date()
    if run_date is None or not actor.is_admin:
        return []
    qs = retention_snapshots_visible_to(actor).filter(
        run_date=run_date,
        period_kind=period_kind,
        period_start=period_start,
        cut_kind=cut_kind,
        at_start__gt=0,
    )
    return list(qs.order_by("cut_label", "cut_key"))


def retention_cohorts(*, actor: User, range: RetentionRange) -> list[RetentionSnapshot]:
    """Every period in the range per acquisition-year cohort (admins)."""
    run_date = latest_run_date()
    if run_date is None or not actor.is_admin:
        return []
    qs = retention_snapshots_visible_to(actor).filter(
        run_date=run_date, period_kind=range.period_kind, cut_kind=CutKind.COHORT
    )
    return [s for s in qs.order_by("period_start", "cut_label") if range.holds(s)]


# --- The customers behind a figure --------------------------------------------------------


@dataclass(frozen=True)
class CustomersBehind:
    """A figure of one period and cut, resolved against the latest run."""

    figure: str
    period_kind: str
    start: dt.date
    end: dt.date  # the period's last day, or the run's last day of data if it is running
    complete: bool
    run_date: dt.date
    cut_kind: str
    cut_key: str
    cut_label: str  # "whole book", "your book", or the cut's name
    count: int | None  # the figure as stored for the actor's view of the cut, if any

    @property
    def caption(self) -> str:
        period = period_label(self.period_kind, self.start)
        if not self.complete:
            period += f" so far (to {self.end:%-d %B})"
        what = FIGURES[self.figure].format(period=period)
        if self.count is not None:
            what += f": {self.count:,} customer{'' if self.count == 1 else 's'}"
        return f"{what} ({self.cut_label}), as the nightly run of {self.run_date} counted them."


def customers_behind_spec(
    *,
    actor: User | None,
    figure: str | None,
    period_kind: str | None,
    period_start: str | None,
    cut: str | None = None,
) -> CustomersBehind:
    """Which customers a request asks for (``retention``, ``period``, ``period_start``,
    ``cut``), checked against the latest run; ValidationFailed naming the parameter."""
    if not figure:
        raise ValidationFailed(
            "Say which customers: retention=at_start, retained, lost or new.", field="retention"
        )
    if figure not in FIGURES:
        raise ValidationFailed(
            f"Unknown figure {figure!r}: use at_start, retained, lost or new.", field="retention"
        )
    kind = parse_period_kind(period_kind)
    day = parse_day(period_start, field="period_start")
    if day is None:
        raise ValidationFailed(
            "Say which period: period_start=YYYY-MM-DD (any day in it).", field="period_start"
        )
    cut_kind, cut_key = _parse_cut(cut)
    run_date = latest_run_date()
    if run_date is None:
        raise ValidationFailed("No retention figures yet: the nightly run has not run.")
    start, end = period_bounds(kind, day)
    last_day = run_date - dt.timedelta(days=1)
    if start > last_day:
        raise ValidationFailed(
            f"{period_label(kind, start)} has not started in the latest run's data "
            f"(to {last_day}).",
            field="period_start",
        )
    # The stored figure and the cut's name, as the actor may see them: an admin every
    # cut; a manager only their own (so their "whole book" is their book).
    admin = actor is not None and actor.is_admin
    visible = retention_snapshots_visible_to(actor) if actor else RetentionSnapshot.objects.none()
    stored = visible.filter(run_date=run_date, period_kind=kind, period_start=start)
    if cut_kind == CutKind.ALL:
        cut_label = "whole book" if admin else "your book"
        stored = stored.filter(cut_kind=cut_kind) if admin else stored
    else:
        named = visible.filter(cut_kind=cut_kind, cut_key=cut_key).order_by("-run_date")
        cut_label = named.values_list("cut_label", flat=True).first() or (
            f"{CutKind(cut_kind).label.lower()} {cut_key}"
        )
        stored = stored.filter(cut_kind=cut_kind, cut_key=cut_key)
    return CustomersBehind(
        figure=figure,
        period_kind=kind,
        start=start,
        end=min(end, last_day),
        complete=end <= last_day,
        run_date=run_date,
        cut_kind=cut_kind,
        cut_key=cut_key,
        cut_label=cut_label,
        count=stored.values_list(figure, flat=True).first(),
    )


def _parse_cut(value: str | None) -> tuple[str, str]:
    """ "all" (or nothing), or "<cut kind>:<key>" as the snapshots name their cuts."""
    if value is None or value in ("", CutKind.ALL):
        return CutKind.ALL, ""
    kind, _, key = value.partition(":")
    kinds = {CutKind.SEGMENT, CutKind.ACCOUNT_MANAGER, CutKind.COHORT, CutKind.RELATIONSHIP_TYPE}
    if kind not in kinds or not key:
        raise ValidationFailed(
            f"Unknown cut {value!r}: use all, segment:<id>, account_manager:<id>, "
            "cohort:<year> or relationship_type:<code>.",
            field="cut",
        )
    if kind != CutKind.RELATIONSHIP_TYPE and not key.isdigit():
        raise ValidationFailed(f"The cut {value!r} needs a number after the colon.", field="cut")
    return kind, key


def customers_behind(queryset: QuerySet[Customer], spec: CustomersBehind) -> QuerySet[Customer]:
    """``queryset`` narrowed to the customers behind the figure: one filter on the two
    dates of their metrics row (the same rule as relationships.analytics.retention)."""
    s, e = spec.start, spec.end
    not_churned_by_end = Q(metrics__churned_on__isnull=True) | Q(metrics__churned_on__gt=e)
    rule = {
        "at_start": Q(metrics__customer_since__lte=s)
        & (Q(metrics__churned_on__isnull=True) | Q(metrics__churned_on__gt=s)),
        "retained": Q(metrics__customer_since__lte=s) & not_churned_by_end,
        "lost": Q(metrics__customer_since__lte=s, metrics__churned_on__gt=s)
        & Q(metrics__churned_on__lte=e),
        "new": Q(metrics__customer_since__gt=s, metrics__customer_since__lte=e)
        & not_churned_by_end,
    }[spec.figure]
    return queryset.filter(rule & _cut_rule(spec))


def _cut_rule(spec: CustomersBehind) -> Q:
    key = spec.cut_key
    if spec.cut_kind == CutKind.SEGMENT:
        return Q(segment__isnull=True) if key == "0" else Q(segment_id=int(key))
    if spec.cut_kind == CutKind.ACCOUNT_MANAGER:
        return Q(account_manager__isnull=True) if key == "0" else Q(account_manager_id=int(key))
    if spec.cut_kind == CutKind.COHORT:
        year = int(key)
        return Q(
            metrics__customer_since__gte=dt.date(year, 1, 1),
            metrics__customer_since__lt=dt.date(year + 1, 1, 1),
        )
    if spec.cut_kind == CutKind.RELATIONSHIP_TYPE:
        segments = [
            s.segment_id
            for s in RelationshipStrategy.objects.only("segment_id", "relationship_types")
            if key in (s.relationship_types or [])
        ]
        return Q(segment_id__in=segments)
    return Q()


def customers_behind_figure(*, actor: User, **params: Any) -> QuerySet[Customer]:
    """The actor's customers behind a figure (``customers_behind_spec``'s parameters)."""
    spec = customers_behind_spec(actor=actor, **params)
    return customers_behind(customers_visible_to(actor), spec)
