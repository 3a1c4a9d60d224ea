"""The relationships app's part of /api/v1/: interactions, retention analytics, the ladder
of loyalty, the defection report and corrective plans."""

from .analytics import (
    CustomerMetricsViewSet,
    DefectionReasonViewSet,
    DefectionViewSet,
    ModelFitViewSet,
    NightlyRunViewSet,
    RelationshipStrategyViewSet,
    RetentionSnapshotViewSet,
)
from .follow_ups import FollowUpViewSet
from .interactions import InteractionViewSet
from .ladder import LadderMoveViewSet, LadderSuggestionViewSet
from .plans import CorrectiveActionViewSet, CorrectivePlanViewSet, DefectionReportViewSet
from .points_forecast import PointsForecastViewSet
from .risk import RiskFlagViewSet
from .segments import SegmentOverviewViewSet


def register(router) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("interactions", InteractionViewSet, basename="api-interaction")
    router.register("follow-ups", FollowUpViewSet, basename="api-follow-up")
    # Retention analytics and risk
    router.register("risk-flags", RiskFlagViewSet, basename="api-risk-flag")
    router.register("customer-metrics", CustomerMetricsViewSet, basename="api-customer-metrics")
    router.register(
        "retention-snapshots", RetentionSnapshotViewSet, basename="api-retention-snapshot"
    )
    router.register("model-fits", ModelFitViewSet, basename="api-model-fit")
    router.register("nightly-runs", NightlyRunViewSet, basename="api-nightly-run")
    router.register(
        "relationship-strategies", RelationshipStrategyViewSet, basename="api-relationship-strategy"
    )
    router.register("segment-overviews", SegmentOverviewViewSet, basename="api-segment-overview")
    router.register("defection-reasons", DefectionReasonViewSet, basename="api-defection-reason")
    router.register("defections", DefectionViewSet, basename="api-defection")
    router.register(
        "loyalty/points-forecasts", PointsForecastViewSet, basename="api-points-forecast"
    )
    # The ladder of loyalty
    router.register("ladder-suggestions", LadderSuggestionViewSet, basename="api-ladder-suggestion")
    router.register("ladder-moves", LadderMoveViewSet, basename="api-ladder-move")
    # The defection report and corrective plans
    router.register("defection-report", DefectionReportViewSet, basename="api-defection-report")
    router.register("corrective-plans", CorrectivePlanViewSet, basename="api-corrective-plan")
    router.register("corrective-actions", CorrectiveActionViewSet, basename="api-corrective-action")
