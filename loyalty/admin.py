"""The admin is where admins configure loyalty without code. Forms refuse contradictions
with a message; points never move here except through the services (admin actions)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from customers.admin_mixins import ReadOnlyAdmin, RecordAdmin
from customers.errors import ApplicationError

from . import selectors, services
from .models import (
    CategoryAffinity,
    CategoryReach,
    EarningRule,
    LedgerEntry,
    LoyaltyRun,
    Membership,
    Offer,
    OfferGrant,
    OfferRedemption,
    Program,
    Redemption,
    Reward,
    RewardCode,
    Tier,
    TierChange,
)


class TierFormSet(forms.BaseInlineFormSet):
    def clean(self):
        # Our message first: it names the tiers that overlap.
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("threshold") is None:
                continue
            rows.append((data.get("name", ""), data["threshold"], data.get("multiplier") or 1))
        problems = services.tier_problems(rows)
        if problems:
            raise ValidationError(problems)
        super().clean()


class RuleFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen: dict[int, str] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("priority") is None:
                continue
            if data["priority"] in seen:
                raise ValidationError(
                    f"Rules {seen[data['priority']]} and {data.get('name')} both have priority "
                    f"{data['priority']}: the order in which rules apply must be explicit."
                )
            seen[data["priority"]] = data.get("name")


class TierInline(admin.TabularInline):
    model = Tier
    formset = TierFormSet
    extra = 0
    fields = ["name", "threshold", "multiplier", "perks"]


class EarningRuleInline(admin.StackedInline):
    model = EarningRule
    formset = RuleFormSet
    extra = 0
    ordering = ["priority"]
    fieldsets = [
        (None, {"fields": [("priority", "name", "kind", "is_active")]}),
        ("Per money", {"fields": [("points_per_unit", "excluded_categories")]}),
        ("Event", {"fields": [("event_code", "points")]}),
        ("Multiplier", {"fields": [("multiplier", "tier", "segment", "category")]}),
        (
            "When and how much",
            {"fields": [("starts_on", "ends_on", "cap_per_day", "cap_per_month")]},
        ),
    ]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "points_name",
        "currency",
        "points_per_unit",
        "starts_on",
        "ends_on",
        "expiry_policy",
        "tier_basis",
        "members",
        "dashboard",
    ]
    list_filter = ["expiry_policy", "tier_basis", "downgrade_policy", "join_on_first_purchase"]
    search_fields = ["name", "points_name"]
    filter_horizontal = ["eligible_segments"]
    inlines = [TierInline, EarningRuleInline]
    actions = ["enrol_eligible"]
    fieldsets = [
        (None, {"fields": ["name", "points_name", ("currency", "points_per_unit")]}),
        (
            "Who and when",
            {"fields": [("starts_on", "ends_on"), "eligible_segments", "join_on_first_purchase"]},
        ),
        ("Points", {"fields": ["pending_days", ("expiry_policy", "expiry_months")]}),
        (
            "Tiers",
            {"fields": ["tier_basis", "qualification_days", ("downgrade_policy", "grace_days")]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(ordering="member_count")
    def members(self, obj):
        return obj.member_count

    @admin.action(description="Enrol every eligible customer (join by rule)")
    def enrol_eligible(self, request, queryset):
        for program in queryset:
            try:
                joined = services.program_enrol_eligible(program=program, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{program}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{program}: {joined} customer(s) joined.", messages.SUCCESS
                )

    @admin.display(description="Page")
    def dashboard(self, obj):
        return format_html('<a href="{}">charts</a>', reverse("loyalty-program", args=[obj.pk]))


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = [
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

    def clean(self):
        super().clean()
        data = self.cleaned_data
        program = data.get("program")
        if program is not None:
            problems = services.reward_problems(
                program=program,
                cost=data.get("cost"),
                tiers=data.get("tiers") or [],
                valid_from=data.get("valid_from"),
                valid_until=data.get("valid_until"),
            )
            if problems:
                raise ValidationError(problems)
        return data


class RewardCodeInline(admin.TabularInline):
    model = RewardCode
    extra = 1
    fields = ["code", "used"]
    readonly_fields = ["used"]


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    form = RewardForm
    list_display = [
        "name",
        "program",
        "cost",
        "stock",
        "per_customer_limit",
        "valid_from",
        "valid_until",
        "is_active",
    ]
    list_filter = ["program", "is_active", "tiers"]
    search_fields = ["name", "description"]
    filter_horizontal = ["tiers"]
    inlines = [RewardCodeInline]


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    list_display = [
        "priority",
        "name",
        "program",
        "kind",
        "event_code",
        "multiplier",
        "starts_on",
        "ends_on",
        "is_active",
    ]
    list_display_links = ["name"]
    list_filter = ["program", "kind", "is_active"]
    search_fields = ["name", "event_code", "category"]
    ordering = ["program", "priority"]


class TierForm(forms.ModelForm):
    """A tier edited on its own is checked against the program's other tiers. No Meta: the
    admin builds the form for Tier with all its fields."""

    def clean(self):
        super().clean()
        data = self.cleaned_data
        program = data.get("program")
        if program is not None and data.get("threshold") is not None:
            others = Tier.objects.filter(program=program).exclude(pk=self.instance.pk)
            problems = services.tier_problems(
                [(t.name, t.threshold, t.multiplier) for t in others]
                + [(data.get("name", ""), data["threshold"], data.get("multiplier") or 1)]
            )
            if problems:
                raise ValidationError(problems)
        return data


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    form = TierForm
    list_display = ["name", "program", "threshold", "multiplier"]
    list_filter = ["program"]
    search_fields = ["name"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    fields = (
        "created_at",
        "kind",
        "points",
        "remaining",
        "pending_until",
        "expires_on",
        "reason",
        "actor",
    )
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    max_num = 0


class TierChangeInline(ReadOnlyInline):
    model = TierChange
    fields = ("changed_at", "from_tier", "to_tier", "reason")
    readonly_fields = fields


class MembershipForm(forms.ModelForm):
    """Adding a member by hand: the same checks as membership_join, as form errors."""

    class Meta:
        model = Membership
        fields = ["program", "customer"]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        program, customer = data.get("program"), data.get("customer")
        if self.instance.pk or program is None or customer is None:
            return data
        if Membership.objects.filter(program=program, customer=customer).exists():
            raise ValidationError(f"{customer} is already a member of {program}.")
        if not program.is_active_on(timezone.localdate()):
            raise ValidationError(f"{program} is not open today.")
        if not services.program_accepts(program, customer):
            raise ValidationError(f"{customer}'s segment may not join {program}.")
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = [
        "customer",
        "program",
        "tier",
        "balance",
        "pending_points",
        "joined_at",
        "join_source",
    ]
    list_filter = ["program", "tier", "join_source"]
    search_fields = ["customer__name", "customer__email"]
    raw_id_fields = ["customer"]
    form = MembershipForm
    readonly_fields = [
        "balance",
        "pending_points",
        "tier",
        "tier_since",
        "below_tier_since",
        "joined_at",
    ]
    inlines = [TierChangeInline, LedgerInline]
    list_select_related = ["customer", "program", "tier"]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["program", "customer"]
        return ["program", "customer", *self.readonly_fields, "join_source"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "program", "customer", "join_source"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        joined = services.membership_join(
            program=obj.program, customer=obj.customer, actor=request.user
        )
        obj.pk = joined.pk
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(RecordAdmin):
    list_display = [
        "created_at",
        "membership",
        "kind",
        "points",
        "remaining",
        "pending_until",
        "expires_on",
        "actor",
        "reason",
    ]
    list_filter = ["kind", "membership__program", "created_at"]
    search_fields = ["membership__customer__name", "idempotency_key", "reason"]
    list_select_related = ["membership__customer", "membership__program", "actor"]
    date_hierarchy = "created_at"


@admin.register(Redemption)
class RedemptionAdmin(RecordAdmin):
    list_display = [
        "code",
        "reward",
        "membership",
        "points",
        "status",
        "created_at",
        "fulfilled_at",
        "cancelled_at",
    ]
    list_filter = ["status", "reward__program", "reward"]
    search_fields = ["code", "membership__customer__name"]
    actions = ["fulfil", "cancel"]
    list_select_related = ["reward", "membership__customer", "membership__program"]

    def _each(self, request, queryset, action, verb):
        done = 0
        for redemption in queryset.select_related("membership__customer"):
            try:
                action(redemption=redemption, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{redemption.code}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} redemption(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Mark as fulfilled")
    def fulfil(self, request, queryset):
        self._each(request, queryset, services.redemption_fulfil, "fulfilled")

    @admin.action(description="Cancel and refund the points")
    def cancel(self, request, queryset):
        self._each(request, queryset, services.redemption_cancel, "cancelled")


class OfferRedemptionInline(ReadOnlyInline):
    model = OfferRedemption
    fields = ("customer", "redeemed_at", "purchase")
    readonly_fields = fields


class OfferGrantInline(ReadOnlyInline):
    model = OfferGrant
    fields = ("customer", "granted_by", "granted_at")
    readonly_fields = fields


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "coupon_code",
        "program",
        "segment",
        "tier",
        "bought_category",
        "not_bought_category",
        "usage_limit",
        "used",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "program", "segment", "tier"]
    search_fields = ["name", "coupon_code", "bought_category", "not_bought_category"]
    inlines = [OfferGrantInline, OfferRedemptionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(used_count=Count("redemptions"))

    @admin.display(ordering="used_count")
    def used(self, obj):
        return obj.used_count


@admin.register(OfferGrant)
class OfferGrantAdmin(ReadOnlyAdmin):
    """Offers account managers handed to customers (from the customer page or the API)."""

    list_display = ["offer", "customer", "granted_by", "granted_at"]
    list_filter = ["offer"]
    search_fields = ["customer__name", "offer__name", "offer__coupon_code"]
    list_select_related = ["offer", "customer", "granted_by"]


@admin.register(CategoryReach)
class CategoryReachAdmin(ReadOnlyAdmin):
    """Customers per category, recomputed by the nightly `affinity` step."""

    list_display = ["category", "customers", "computed_on"]
    search_fields = ["category"]


@admin.register(CategoryAffinity)
class CategoryAffinityAdmin(ReadOnlyAdmin):
    """Customers who buy one category also buy another: a guide when targeting an offer at
    "bought X but not Y" (nightly `affinity` step)."""

    list_display = ["category", "also_bought", "customers_both", "lift", "computed_on"]
    list_filter = ["category"]
    search_fields = ["category", "also_bought"]


@admin.register(OfferRedemption)
class OfferRedemptionAdmin(ReadOnlyAdmin):
    """Which offers retained whom: did the customer buy again after using the offer?"""

    list_display = ["offer", "customer", "redeemed_at", "bought_again", "customer_status"]
    list_filter = ["offer", "offer__kind"]
    search_fields = ["customer__name", "offer__name"]
    list_select_related = ["offer", "customer"]

    def get_queryset(self, request):
        return selectors.with_retention(super().get_queryset(request))

    @admin.display(boolean=True, ordering="bought_again", description="Bought again since")
    def bought_again(self, obj):
        return obj.bought_again

    @admin.display(description="Status now")
    def customer_status(self, obj):
        return obj.customer.get_status_display()


@admin.register(LoyaltyRun)
class LoyaltyRunAdmin(RecordAdmin):
    list_display = ["step", "run_date", "status", "rows", "started_at", "finished_at", "error"]
    list_filter = ["step", "status"]
    date_hierarchy = "run_date"


@admin.register(TierChange)
class TierChangeAdmin(RecordAdmin):
    list_display = ["changed_at", "membership", "from_tier", "to_tier", "reason"]
    list_filter = ["to_tier", "membership__program"]
    search_fields = ["membership__customer__name", "reason"]
    list_select_related = ["membership__customer", "membership__program", "from_tier", "to_tier"]
