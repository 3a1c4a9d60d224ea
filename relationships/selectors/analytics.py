"""Reads for retention analytics and risk, scoped by who may see which customers."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Max,
    QuerySet,
    Value,
    When,
)

from customers.models import Stage, User
from customers.selectors import customers_visible_to

from ..analytics.valuation import TIER_ADVICE
from ..models import (
    CustomerMetrics,
    CutKind,
    Defection,
    DefectionReason,
    ModelFit,
    NightlyRun,
    RelationshipStrategy,
    RetentionSnapshot,
    RiskFlag,
    RunStatus,
    ValueBand,
)


def risk_flags_visible_to(actor: User) -> QuerySet[RiskFlag]:
    return RiskFlag.objects.filter(customer__in=customers_visible_to(actor))


def metrics_visible_to(actor: User) -> QuerySet[CustomerMetrics]:
    return CustomerMetrics.objects.filter(customer__in=customers_visible_to(actor))


def defections_visible_to(actor: User) -> QuerySet[Defection]:
    return Defection.objects.filter(customer__in=customers_visible_to(actor))


def retention_snapshots_visible_to(actor: User) -> QuerySet[RetentionSnapshot]:
    """Admins see every cut; an account manager sees only the account-manager cut of
    their own book; anyone else sees none. Page and API share this rule."""
    if actor.is_admin:
        return RetentionSnapshot.objects.all()
    if actor.is_staff_member:
        return RetentionSnapshot.objects.filter(
            cut_kind=CutKind.ACCOUNT_MANAGER, cut_key=str(actor.pk)
        )
    return RetentionSnapshot.objects.none()


def latest_run_date() -> dt.date | None:
    return RetentionSnapshot.objects.aggregate(d=Max("run_date"))["d"]


def _book_summary(actor: User) -> dict | None:
    """The tier and CLV counts the last successful nightly run stored: the whole book for
    an admin, their own book (as assigned at the run) for an account manager. Counting
    them per page view meant aggregating up to a million CustomerMetrics rows (seconds).
    None when there is no such summary: the caller counts live."""
    if not (actor.is_admin or actor.is_account_manager):
        return None
    run = (
        NightlyRun.objects.filter(status=RunStatus.SUCCEEDED)
        .order_by("-run_date")
        .only("rows")
        .first()
    )
    summary = (run.rows or {}).get("dashboard") if run else None
    if not isinstance(summary, dict):
        return None
    if not actor.is_admin:
        summary = (summary.get("managers") or {}).get(str(actor.pk))
    return summary if isinstance(summary, dict) and {"tiers", "clv"} <= summary.keys() else None


def _tier_counts(qs: QuerySet[CustomerMetrics]) -> dict[tuple[int, int], int]:
    rows = (
        qs.values_list("financial_band", "strategic_band")
        .annotate(n=Count("id"))
        .values_list("financial_band", "strategic_band", "n")
    )
    return {(f, s): n for f, s, n in rows}


def _clv_counts(qs: QuerySet[CustomerMetrics]) -> dict[int, int]:
    """Customers with purchases per CLV bucket: bucket i holds CLV_EDGES[i-1] <= CLV <
    CLV_EDGES[i] (bucket 0: below 0; the last: the top edge and above)."""
    whens = [When(clv_12m__lt=edge, then=Value(i)) for i, edge in enumerate(CLV_EDGES)]
    bucket = Case(*whens, default=Value(len(CLV_EDGES)), output_field=IntegerField())
    qs = qs.filter(purchase_count__gt=0).annotate(bucket=bucket)
    return dict(qs.values("bucket").annotate(n=Count("id")).values_list("bucket", "n"))


def dashboard_ladder_counts(*, actor: User) -> list[tuple[str, str, int]]:
    """The dashboard's ladder: the stage counts the last nightly run stored (as of that
    run, like the rest of the dashboard), else counted live. The ladder page itself
    counts live (ladder_counts)."""
    summary = _book_summary(actor)
    if summary is None or "stages" not in summary:
        return ladder_counts(actor=actor)
    stored = {int(rank): int(n) for rank, n in summary["stages"]}
    return [
        (value, label, stored.get(rank, 0)) for rank, (value, label) in enumerate(Stage.choices)
    ]


def ladder_counts(*, actor: User) -> list[tuple[str, str, int]]:
    counts = dict(
        customers_visible_to(actor)
        .values_list("stage")
        .annotate(n=Count("id"))
        .values_list("stage", "n")
    )
    return [(value, label, counts.get(value, 0)) for value, label in Stage.choices]


def value_tier_grid(*, actor: User) -> list[list[dict]]:
    """3x3 counts of (financial band, strategic band), high strategic first, with Gordon's advice."""
    summary = _book_summary(actor)
    if summary is not None:
        counts = {(int(f), int(s)): int(n) for f, s, n in summary["tiers"]}
    else:
        counts = _tier_counts(metrics_visible_to(actor))
    grid = []
    for s in reversed(ValueBand.values):
        grid.append(
            [
                {
                    "financial": ValueBand(f).label,
                    "strategic": ValueBand(s).label,
                    "count": counts.get((f, s), 0),
                    "advice": TIER_ADVICE.get((f, s), ""),
                }
                for f in ValueBand.values
            ]
        )
    return grid


CLV_EDGES = [0] + [m * 10**e for e in range(7) for m in (1, 2, 5)]  # 0, 1, 2, 5, 10, ... 5M


def _short_amount(value: float) -> str:
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def clv_histogram(*, actor: User) -> dict:
    """Customers by 12-month CLV in 1-2-5 bins (a log scale: CLV is heavy-tailed, a few
    big accounts would squash equal-width bins). One grouped query, no rows pulled."""
    summary = _book_summary(actor)
    if summary is not None:
        counts = {int(b): int(n) for b, n in summary["clv"]}
    else:
        counts = _clv_counts(metrics_visible_to(actor))
    if not counts:
        return {"bins": [], "total": 0}
    bins = []
    for i in range(len(CLV_EDGES) + 1):
        if i == 0:
            short, label = "<0", "below 0"
        elif i == len(CLV_EDGES):
            short = label = f"{_short_amount(CLV_EDGES[-1])}+"
        else:
            short = _short_amount(CLV_EDGES[i - 1])
            label = f"{short} to {_short_amount(CLV_EDGES[i])}"
        bins.append({"label": label, "short": short, "count": counts.get(i, 0)})
    used = [i for i, b in enumerate(bins) if b["count"]]
    return {"bins": bins[used[0] : used[-1] + 1], "total": sum(counts.values())}


def defection_reason_counts(*, actor: User) -> list[tuple[str, int]]:
    counts = dict(
        defections_visible_to(actor)
        .values_list("reason")
        .annotate(n=Count("id"))
        .values_list("reason", "n")
    )
    return [
        (r.name, counts.get(r.pk, 0))
        for r in DefectionReason.objects.all()
        if counts.get(r.pk) or r.is_active
    ]


def model_fits(*, limit: int = 10) -> list[ModelFit]:
    return list(ModelFit.objects.order_by("-run_date")[:limit])


def nightly_runs(*, limit: int = 14) -> list[NightlyRun]:
    return list(NightlyRun.objects.order_by("-run_date")[:limit])


def strategies() -> QuerySet[RelationshipStrategy]:
    return RelationshipStrategy.objects.select_related("segment").order_by("segment__name")
