"""Offers in the API: admins configure them; staff read them, see which a customer may use
and has used, and hand one to a customer of their book; a customer lists the offers meant
for them and uses one."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from customers.errors import NotAllowed
from customers.models import Customer
from customers.permissions import IsAdminRole, IsStaffMember, actor_of
from customers.selectors import customer_of_user, customers_visible_to

from .. import selectors, services
from ..models import Offer, OfferGrant, OfferRedemption
from .config import ConfigViewSet


class OfferSerializer(serializers.ModelSerializer):
    class Meta:
        model = Offer
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "coupon_code",
            "program",
            "segment",
            "tier",
            "bought_category",
            "not_bought_category",
            "valid_from",
            "valid_until",
            "usage_limit",
            "per_customer_limit",
            "is_active",
        ]


class CustomerOfferSerializer(OfferSerializer):
    """An offer as one customer sees it: handed to them (when, by whom) and used how often."""

    handed_out_at = serializers.DateTimeField(source="granted_at", read_only=True, default=None)
    handed_out_by = serializers.SerializerMethodField()
    uses = serializers.IntegerField(source="used_mine", read_only=True, default=0)

    class Meta(OfferSerializer.Meta):
        fields = [*OfferSerializer.Meta.fields, "handed_out_at", "handed_out_by", "uses"]
        read_only_fields = fields

    def get_handed_out_by(self, offer) -> str | None:
        names = [getattr(offer, "granted_by_first", None), getattr(offer, "granted_by_last", None)]
        return " ".join(n for n in names if n) or None


class CustomerOffersSerializer(serializers.Serializer):
    eligible = CustomerOfferSerializer(many=True, help_text="Usable today.")
    used = CustomerOfferSerializer(many=True, help_text="Used at least once.")


class OfferStatsSerializer(serializers.Serializer):
    """Live uses and hand-outs; reach and conversion as counted by the last nightly run.
    conversion_percent = customers who used it / customers it reached (targeted, handed out
    or used) x 100; null before the first night or when it reached nobody."""

    offer = serializers.IntegerField(source="pk")
    uses = serializers.IntegerField()
    customers_used = serializers.IntegerField()
    handed_out = serializers.IntegerField()
    handed_used = serializers.IntegerField(help_text="Customers handed it who used it.")
    reached = serializers.IntegerField(source="counted.reached", default=None)
    reached_used = serializers.IntegerField(source="counted.used", default=None)
    conversion_percent = serializers.FloatField(source="counted.conversion_percent", default=None)
    counted_on = serializers.DateField(source="counted.computed_on", default=None)


class OfferGrantSerializer(serializers.ModelSerializer):
    offer_name = serializers.CharField(source="offer.name", read_only=True)
    coupon_code = serializers.CharField(source="offer.coupon_code", read_only=True)

    class Meta:
        model = OfferGrant
        fields = [
            "id",
            "offer",
            "offer_name",
            "coupon_code",
            "customer",
            "granted_by",
            "granted_at",
        ]
        read_only_fields = fields


class GiveInput(serializers.Serializer):
    customer = serializers.IntegerField(help_text="A customer of your book.")


class CustomerQuery(serializers.Serializer):
    customer = serializers.IntegerField(help_text="A customer of your book.")


class OfferRedemptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = OfferRedemption
        fields = ["id", "offer", "customer", "redeemed_at", "purchase"]
        read_only_fields = fields


class OfferRedeemInput(serializers.Serializer):
    customer = serializers.IntegerField(required=False, help_text="Staff: for which customer.")


class OfferViewSet(ConfigViewSet):
    """Staff read every offer, see a customer's offers and hand one out; admins read its
    counts; a customer lists the offers meant for them (handed-out first) and uses one."""

    serializer_class = OfferSerializer
    filterset_fields = ["kind", "is_active"]

    def get_permissions(self):
        if self.action in ("list", "retrieve", "redeem"):
            return [permissions.IsAuthenticated()]
        if self.action in ("give", "for_customer"):
            return [IsStaffMember()]
        if self.action == "stats":
            return [IsAdminRole()]
        return super().get_permissions()

    def get_serializer_class(self):
        # A customer reads offers as theirs: handed to them by whom, used how often.
        user = self.request.user if self.request else None
        if user is not None and user.is_authenticated and not user.is_staff_member:
            return CustomerOfferSerializer
        return OfferSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Offer.objects.all()
        user = actor_of(self.request)
        if user.is_staff_member:
            return Offer.objects.all()
        customer = customer_of_user(user=user)
        return (
            selectors.offers_for_customer(customer=customer) if customer else Offer.objects.none()
        )

    @extend_schema(request=OfferRedeemInput, responses={201: OfferRedemptionSerializer})
    @action(detail=True, methods=["post"])
    def redeem(self, request, pk=None):
        offer = self.get_object()
        data = OfferRedeemInput(data=request.data)
        data.is_valid(raise_exception=True)
        customer: Customer | None
        if request.user.is_staff_member:
            if "customer" not in data.validated_data:
                raise serializers.ValidationError({"customer": ["Say for which customer."]})
            customer = get_object_or_404(
                customers_visible_to(request.user), pk=data.validated_data["customer"]
            )
        else:
            customer = customer_of_user(user=request.user)
            if customer is None:
                raise NotAllowed("Only customers with a customer record can use offers.")
            if data.validated_data.get("customer", customer.pk) != customer.pk:
                raise NotFound("No such customer.")
        used = services.offer_redeem(offer=offer, customer=customer, actor=request.user)
        return Response(OfferRedemptionSerializer(used).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=GiveInput,
        responses={201: OfferGrantSerializer, 200: OfferGrantSerializer},
        description="Hand the offer to a customer of your book (it must be usable by them "
        "today). 201 when handed now, 200 with the first hand-out when it was handed before; "
        "404 for a customer outside your book, 409 when they cannot use it.",
    )
    @action(detail=True, methods=["post"])
    def give(self, request, pk=None):
        offer = self.get_object()
        data = GiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        customer = get_object_or_404(
            customers_visible_to(request.user), pk=data.validated_data["customer"]
        )
        grant, created = services.offer_grant(offer=offer, customer=customer, actor=request.user)
        return Response(
            OfferGrantSerializer(grant).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(parameters=[CustomerQuery], responses=CustomerOffersSerializer)
    @action(detail=False, methods=["get"], url_path="for-customer")
    def for_customer(self, request):
        """The offers a customer of your book may use today, and those they used."""
        query = CustomerQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        customer = get_object_or_404(
            customers_visible_to(request.user), pk=query.validated_data["customer"]
        )
        return Response(CustomerOffersSerializer(selectors.customer_offers(customer=customer)).data)

    @extend_schema(responses=OfferStatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        """Uses, hand-outs, reach and conversion (admins: they count the whole book)."""
        return Response(OfferStatsSerializer(selectors.offer_stats(offer=self.get_object())).data)


class OfferGrantViewSet(viewsets.ReadOnlyModelViewSet):
    """Offers handed to customers: staff see their book's, a customer their own."""

    serializer_class = OfferGrantSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["offer", "customer"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OfferGrant.objects.none()
        return selectors.offer_grants_visible_to(actor_of(self.request))
