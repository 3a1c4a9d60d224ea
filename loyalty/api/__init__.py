"""Loyalty API: admins configure; account managers read and adjust their customers;
customers read their own membership, ledger and redemptions, and redeem. Thin: validate,
call a selector or service, serialize. Domain errors become 400/403/409 in crm.api_errors."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from customers.errors import NotAllowed
from customers.models import Customer
from customers.permissions import actor_of
from customers.selectors import customer_of_user, customers_visible_to, purchases_visible_to

from .. import selectors, services
from ..models import (
    EarningRule,
    LedgerEntry,
    Membership,
    Program,
    Redemption,
    Reward,
    Tier,
)
from .config import ConfigViewSet
from .offers import OfferGrantViewSet, OfferViewSet

# ---------------------------------------------------------------- serializers


class ProgramSerializer(serializers.ModelSerializer):
    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "points_name",
            "currency",
            "points_per_unit",
            "starts_on",
            "ends_on",
            "eligible_segments",
            "join_on_first_purchase",
            "pending_days",
            "expiry_policy",
            "expiry_months",
            "tier_basis",
            "qualification_days",
            "downgrade_policy",
            "grace_days",
        ]


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["id", "program", "name", "threshold", "multiplier", "perks"]


class EarningRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = EarningRule
        fields = [
            "id",
            "program",
            "name",
            "kind",
            "priority",
            "is_active",
            "points_per_unit",
            "excluded_categories",
            "event_code",
            "points",
            "multiplier",
            "tier",
            "segment",
            "category",
            "starts_on",
            "ends_on",
            "cap_per_day",
            "cap_per_month",
        ]


class RewardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reward
        fields = [
            "id",
            "program",
            "name",
            "description",
            "cost",
            "stock",
            "per_customer_limit",
            "valid_from",
            "valid_until",
            "tiers",
            "is_active",
        ]


class MemberRewardSerializer(RewardSerializer):
    """A reward as one member sees it (GET .../memberships/{id}/rewards/)."""

    can_redeem = serializers.BooleanField(read_only=True)
    reason = serializers.CharField(
        read_only=True, help_text="What stops this member redeeming it; empty when nothing."
    )

    class Meta(RewardSerializer.Meta):
        fields = [*RewardSerializer.Meta.fields, "can_redeem", "reason"]


class MembershipSerializer(serializers.ModelSerializer):
    program_name = serializers.CharField(source="program.name", read_only=True)
    points_name = serializers.CharField(source="program.points_name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    tier_name = serializers.CharField(source="tier.name", read_only=True, default=None)

    class Meta:
        model = Membership
        fields = [
            "id",
            "program",
            "program_name",
            "points_name",
            "customer",
            "customer_name",
            "tier",
            "tier_name",
            "tier_since",
            "balance",
            "pending_points",
            "joined_at",
            "join_source",
        ]
        read_only_fields = fields


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "membership",
            "kind",
            "points",
            "remaining",
            "created_at",
            "effective_on",
            "pending_until",
            "expires_on",
            "purchase",
            "event_code",
            "redemption",
            "reason",
            "actor",
        ]
        read_only_fields = fields


class RedemptionSerializer(serializers.ModelSerializer):
    reward_name = serializers.CharField(source="reward.name", read_only=True)

    class Meta:
        model = Redemption
        fields = [
            "id",
            "membership",
            "reward",
            "reward_name",
            "code",
            "points",
            "status",
            "created_at",
            "fulfilled_at",
            "cancelled_at",
        ]
        read_only_fields = fields


class JoinInput(serializers.Serializer):
    program = serializers.IntegerField()
    customer = serializers.IntegerField()


class AdjustInput(serializers.Serializer):
    points = serializers.IntegerField(
        min_value=-services.MAX_ADJUSTMENT, max_value=services.MAX_ADJUSTMENT
    )
    reason = serializers.CharField(max_length=300)
    idempotency_key = serializers.CharField(max_length=100, required=False)


class RedeemInput(serializers.Serializer):
    reward = serializers.IntegerField()
    idempotency_key = serializers.CharField(max_length=100)


class EventInput(serializers.Serializer):
    customer = serializers.IntegerField()
    event_code = serializers.SlugField(max_length=60)
    idempotency_key = serializers.CharField(max_length=100)


class ReversalInput(serializers.Serializer):
    purchase = serializers.IntegerField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


# ---------------------------------------------------------------- viewsets


class ProgramViewSet(ConfigViewSet):
    queryset = Program.objects.prefetch_related("eligible_segments")
    serializer_class = ProgramSerializer
    m2m_fields = ("eligible_segments",)
    search_fields = ["name"]


class TierViewSet(ConfigViewSet):
    queryset = Tier.objects.all()
    serializer_class = TierSerializer
    filterset_fields = ["program"]


class EarningRuleViewSet(ConfigViewSet):
    queryset = EarningRule.objects.all()
    serializer_class = EarningRuleSerializer
    filterset_fields = ["program", "kind", "is_active"]


class RewardViewSet(ConfigViewSet):
    queryset = Reward.objects.prefetch_related("tiers")
    serializer_class = RewardSerializer
    m2m_fields = ("tiers",)
    filterset_fields = ["program", "is_active"]


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MembershipSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["program", "customer", "tier"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return selectors.memberships_visible_to(actor_of(self.request))

    @extend_schema(request=JoinInput, responses={201: MembershipSerializer})
    def create(self, request):
        """Staff enrol a customer of their book; a customer joins a program themselves."""
        data = JoinInput(data=request.data)
        data.is_valid(raise_exception=True)
        program = get_object_or_404(Program, pk=data.validated_data["program"])
        customer: Customer | None
        if request.user.is_staff_member:
            customer = get_object_or_404(
                customers_visible_to(request.user), pk=data.validated_data["customer"]
            )
            source = "manual"
        else:
            customer = customer_of_user(user=request.user)
            if customer is None:
                raise NotAllowed("You can only join a program yourself.")
            if customer.pk != data.validated_data["customer"]:
                # Someone else's id: as for any row outside your scope, it does not exist.
                raise NotFound("No such customer.")
            source = "self"
        membership = services.membership_join(
            program=program, customer=customer, actor=request.user, source=source
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=LedgerEntrySerializer(many=True))
    # The membership's filters and orderings are not this list's: it takes only a cursor.
    @action(detail=True, methods=["get"], filter_backends=[])
    def ledger(self, request, pk=None):
        membership = self.get_object()
        page = self.paginate_queryset(membership.entries.order_by("-id"))
        return self.get_paginated_response(LedgerEntrySerializer(page, many=True).data)

    @extend_schema(request=AdjustInput, responses={201: LedgerEntrySerializer})
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        membership = self.get_object()
        data = AdjustInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.points_adjust(
            membership=membership,
            points=data.validated_data["points"],
            reason=data.validated_data["reason"],
            actor=request.user,
            idempotency_key=data.validated_data.get("idempotency_key"),
        )
        return Response(LedgerEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RedeemInput, responses={201: RedemptionSerializer})
    @action(detail=True, methods=["post"])
    def redeem(self, request, pk=None):
        membership = self.get_object()
        data = RedeemInput(data=request.data)
        data.is_valid(raise_exception=True)
        reward = get_object_or_404(
            Reward, pk=data.validated_data["reward"], program=membership.program
        )
        redemption = services.points_redeem(
            membership=membership,
            reward=reward,
            actor=request.user,
            idempotency_key=data.validated_data["idempotency_key"],
        )
        return Response(RedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=MemberRewardSerializer(many=True))
    # The membership's filters and orderings are not this list's: it takes only a cursor.
    @action(detail=True, methods=["get"], filter_backends=[])
    def rewards(self, request, pk=None):
        """The catalogue as this member sees it, with what stops each redemption; paged
        like every list."""
        membership = self.get_object()
        page = self.paginate_queryset(selectors.rewards_open_to(membership=membership))
        rows = selectors.reward_standing(membership=membership, rewards=page or [])
        data = [
            {
                **RewardSerializer(r["reward"]).data,
                "can_redeem": r["can_redeem"],
                "reason": r["reason"],
            }
            for r in rows
        ]
        return self.get_paginated_response(data)


class LedgerViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LedgerEntrySerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["membership", "kind"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LedgerEntry.objects.none()
        return selectors.ledger_visible_to(actor_of(self.request))


class RedemptionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RedemptionSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["membership", "status", "reward"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Redemption.objects.none()
        return selectors.redemptions_visible_to(actor_of(self.request))

    @extend_schema(request=ReasonInput, responses=RedemptionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.redemption_cancel(
            redemption=self.get_object(),
            actor=request.user,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(RedemptionSerializer(redemption).data)

    @extend_schema(request=None, responses=RedemptionSerializer)
    @action(detail=True, methods=["post"])
    def fulfil(self, request, pk=None):
        redemption = services.redemption_fulfil(redemption=self.get_object(), actor=request.user)
        return Response(RedemptionSerializer(redemption).data)


class EventViewSet(viewsets.ViewSet):
    """Fire a loyalty event (review, referral, training attended...) for a customer."""

    @extend_schema(request=EventInput, responses={201: LedgerEntrySerializer(many=True)})
    def create(self, request):
        data = EventInput(data=request.data)
        data.is_valid(raise_exception=True)
        customer = get_object_or_404(
            customers_visible_to(request.user), pk=data.validated_data["customer"]
        )
        entries = services.points_earn_for_event(
            customer=customer,
            event_code=data.validated_data["event_code"],
            idempotency_key=data.validated_data["idempotency_key"],
            actor=request.user,
        )
        return Response(
            LedgerEntrySerializer(entries, many=True).data, status=status.HTTP_201_CREATED
        )


class PurchaseReversalViewSet(viewsets.ViewSet):
    """A refunded purchase: reverse the points it earned (once)."""

    @extend_schema(request=ReversalInput, responses={201: LedgerEntrySerializer(many=True)})
    def create(self, request):
        data = ReversalInput(data=request.data)
        data.is_valid(raise_exception=True)
        purchase = get_object_or_404(
            purchases_visible_to(request.user).select_related("customer"),
            pk=data.validated_data["purchase"],
        )
        entries = services.points_reverse_for_purchase(
            purchase=purchase, actor=request.user, reason=data.validated_data.get("reason", "")
        )
        return Response(
            LedgerEntrySerializer(entries, many=True).data, status=status.HTTP_201_CREATED
        )


def register(router) -> None:
    from . import builder

    builder.register(router)
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("loyalty/programs", ProgramViewSet, basename="api-loyalty-program")
    router.register("loyalty/tiers", TierViewSet, basename="api-loyalty-tier")
    router.register("loyalty/rules", EarningRuleViewSet, basename="api-loyalty-rule")
    router.register("loyalty/rewards", RewardViewSet, basename="api-loyalty-reward")
    router.register("loyalty/offers", OfferViewSet, basename="api-loyalty-offer")
    router.register("loyalty/offer-grants", OfferGrantViewSet, basename="api-loyalty-offer-grant")
    router.register("loyalty/memberships", MembershipViewSet, basename="api-loyalty-membership")
    router.register("loyalty/ledger", LedgerViewSet, basename="api-loyalty-ledger")
    router.register("loyalty/redemptions", RedemptionViewSet, basename="api-loyalty-redemption")
    router.register("loyalty/events", EventViewSet, basename="api-loyalty-event")
    router.register(
        "loyalty/purchase-reversals",
        PurchaseReversalViewSet,
        basename="api-loyalty-purchase-reversal",
    )
