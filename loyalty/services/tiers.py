"""Tiers: an upgrade as soon as points or spend qualify, and the nightly set-based recompute
that applies upgrades and the downgrades each program's policy allows."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from customers.dates import local_midnight
from customers.models import Purchase

from ..models import (
    DowngradePolicy,
    LedgerEntry,
    Membership,
    Program,
    Tier,
    TierBasis,
    TierChange,
)
from ..selectors import memberships_qualifying

if TYPE_CHECKING:
    pass


def upgrade_if_qualified(membership: Membership, day: dt.date) -> None:
    """Upgrades happen at once; downgrades wait for the nightly run and the policy."""
    tiers = sorted(membership.program.tiers.all(), key=lambda t: t.threshold)
    if not tiers:
        return
    metric = (
        memberships_qualifying(program=membership.program, day=day)
        .filter(pk=membership.pk)
        .values_list("metric", flat=True)
        .first()
    )
    target = next(
        (t for t in reversed(tiers) if metric is not None and metric >= t.threshold), None
    )
    current = membership.tier
    if target is None or (current is not None and current.threshold >= target.threshold):
        return
    Membership.objects.filter(pk=membership.pk).update(
        tier=target, tier_since=day, below_tier_since=None
    )
    TierChange.objects.create(
        membership=membership,
        from_tier=current,
        to_tier=target,
        run_date=day,
        reason=f"Upgraded: {metric} qualifies for {target.name} (from {target.threshold}).",
    )
    membership.tier = target


def _metric_sql(program: Program, run_date: dt.date) -> tuple[str, list]:
    """SQL (mid, metric) of what each membership's tier is computed on, one GROUP BY."""
    m, e = Membership._meta.db_table, LedgerEntry._meta.db_table
    start = run_date - dt.timedelta(days=program.qualification_days)
    if program.tier_basis == TierBasis.SPEND:
        since = local_midnight(start + dt.timedelta(days=1))
        until = local_midnight(run_date + dt.timedelta(days=1))
        p = Purchase._meta.db_table
        return (
            f"SELECT mm.id AS mid, SUM(p.amount) AS metric FROM {p} p JOIN {m} mm "  # noqa: S608
            f"ON mm.customer_id = p.customer_id AND mm.program_id = %s WHERE p.currency = %s "
            f"AND p.occurred_at >= %s AND p.occurred_at < %s GROUP BY mm.id",
            [program.pk, program.currency, since, until],
        )
    return (
        f"SELECT e.membership_id AS mid, SUM(e.points) AS metric FROM {e} e JOIN {m} mm "  # noqa: S608
        f"ON mm.id = e.membership_id AND mm.program_id = %s WHERE e.effective_on > %s "
        f"AND e.effective_on <= %s AND (e.kind = 'earn' OR (e.kind = 'reverse' AND "
        f"e.redemption_id IS NULL)) GROUP BY e.membership_id",
        [program.pk, start, run_date],
    )


def tiers_recompute(*, run_date: dt.date) -> int:
    """Set-based, per program: one GROUP BY computes every member's qualifying figure into a
    temporary table of target tiers; the policy removes the downgrades it does not allow;
    one INSERT records the changes with their reason and one UPDATE applies them.
    Upgrades always apply; downgrades follow the program's policy."""
    m = Membership._meta.db_table
    t = Tier._meta.db_table
    tc = TierChange._meta.db_table
    changed = 0
    for program in Program.objects.prefetch_related("tiers"):
        tiers = sorted(program.tiers.all(), key=lambda tier: tier.threshold)
        if not tiers:
            continue
        metric_sql, metric_params = _metric_sql(program, run_date)
        ordered = list(reversed(tiers))
        new_tier = (
            "CASE "
            + " ".join("WHEN COALESCE(q.metric, 0) >= CAST(%s AS NUMERIC) THEN %s" for _ in ordered)
            + " ELSE NULL END"
        )
        new_thr = (
            "CASE "
            + " ".join("WHEN COALESCE(q.metric, 0) >= CAST(%s AS NUMERIC) THEN %s" for _ in ordered)
            + " ELSE -1 END"
        )
        tier_params = [x for tier in ordered for x in (tier.threshold, tier.pk)]
        thr_params = [x for tier in ordered for x in (tier.threshold, tier.threshold)]
        policy = program.get_downgrade_policy_display().lower()
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS loyalty_tier_targets")
            cur.execute(
                "CREATE TEMPORARY TABLE loyalty_tier_targets (mid bigint PRIMARY KEY, old_tier bigint, "
                "new_tier bigint, old_thr numeric, new_thr numeric)"
            )
            cur.execute(
                f"INSERT INTO loyalty_tier_targets (mid, old_tier, new_tier, old_thr, new_thr) "  # noqa: S608
                f"SELECT m.id, m.tier_id, {new_tier}, COALESCE(ct.threshold, -1), {new_thr} "
                f"FROM {m} m LEFT JOIN ({metric_sql}) q ON q.mid = m.id LEFT JOIN {t} ct ON ct.id = m.tier_id "
                f"WHERE m.program_id = %s",
                [*tier_params, *thr_params, *metric_params, program.pk],
            )
            cur.execute("DELETE FROM loyalty_tier_targets WHERE new_thr = old_thr")
            if program.downgrade_policy == DowngradePolicy.GRACE_PERIOD:
                cur.execute(
                    f"UPDATE {m} SET below_tier_since = %s WHERE below_tier_since IS NULL AND id IN "  # noqa: S608
                    f"(SELECT mid FROM loyalty_tier_targets WHERE new_thr < old_thr)",
                    [run_date],
                )
                cur.execute(
                    f"UPDATE {m} SET below_tier_since = NULL WHERE program_id = %s AND "  # noqa: S608
                    f"below_tier_since IS NOT NULL AND id NOT IN (SELECT mid FROM loyalty_tier_targets "
                    f"WHERE new_thr < old_thr)",
                    [program.pk],
                )
                cur.execute(
                    f"DELETE FROM loyalty_tier_targets WHERE new_thr < old_thr AND mid IN (SELECT id "  # noqa: S608
                    f"FROM {m} WHERE program_id = %s AND below_tier_since > %s)",
                    [program.pk, run_date - dt.timedelta(days=program.grace_days)],
                )
            elif program.downgrade_policy == DowngradePolicy.END_OF_WINDOW:
                window_start = run_date - dt.timedelta(days=program.qualification_days)
                cur.execute(
                    f"DELETE FROM loyalty_tier_targets WHERE new_thr < old_thr AND mid IN (SELECT id "  # noqa: S608
                    f"FROM {m} WHERE program_id = %s AND tier_since > %s)",
                    [program.pk, window_start],
                )
            else:
                cur.execute("DELETE FROM loyalty_tier_targets WHERE new_thr < old_thr")
            cur.execute(
                f"INSERT INTO {tc} (membership_id, from_tier_id, to_tier_id, changed_at, run_date, reason) "  # noqa: S608
                f"SELECT x.mid, x.old_tier, x.new_tier, %s, %s, CASE WHEN x.new_thr > x.old_thr "
                f"THEN %s || COALESCE(nt.name, 'no tier') || '.' "
                f"ELSE %s || COALESCE(nt.name, 'no tier') || %s END "
                f"FROM loyalty_tier_targets x LEFT JOIN {t} nt ON nt.id = x.new_tier",
                [
                    timezone.now(),
                    run_date,
                    f"Nightly {run_date}: qualifies for ",
                    f"Nightly {run_date}: below the threshold, down to ",
                    f" ({policy}).",
                ],
            )
            changed += cur.rowcount
            cur.execute(
                f"UPDATE {m} SET tier_id = x.new_tier, tier_since = %s, below_tier_since = NULL "  # noqa: S608
                f"FROM loyalty_tier_targets x WHERE {m}.id = x.mid",
                [run_date],
            )
            cur.execute("DROP TABLE loyalty_tier_targets")
    return changed
