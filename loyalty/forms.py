import datetime as dt

from django import forms
from django.utils import timezone

from customers.web import model_choice_field

from .models import EarningRule, Offer, Program, Reward, Tier
from .services import MAX_ADJUSTMENT, reward_problems, tier_problems


class AdjustmentForm(forms.Form):
    points = forms.IntegerField(
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text="Negative to take points away.",
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 250 or -100"}),
    )
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"placeholder": "Why?"}))
    idempotency_key = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError("Give a number of points other than zero.")
        return points


class OfferGiveForm(forms.Form):
    offer = forms.IntegerField(min_value=1, error_messages={"required": "Choose an offer."})


# ---------------------------------------------------------------- the program builder
# ModelForms: the models' clean() and constraints put each refusal on its field; the
# cross-row checks the services make (tiers that overlap, a reward nobody can afford)
# run here too, on the draft, so they show on the field before anything is saved.


class EffectiveOnMixin(forms.Form):
    effective_on = forms.DateField(
        label="Takes effect on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today applies it now; a later date waits for that night's run.",
    )

    def clean_effective_on(self):
        day = self.cleaned_data.get("effective_on") or timezone.localdate()
        if day < timezone.localdate():
            raise forms.ValidationError("A change cannot take effect in the past.")
        if day > timezone.localdate() + dt.timedelta(days=730):
            raise forms.ValidationError("Schedule a change at most two years ahead.")
        return day


def _date(widget_attrs=None):
    return forms.DateInput(attrs={"type": "date", **(widget_attrs or {})})


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "name", "points_name", "currency", "points_per_unit", "starts_on", "ends_on",
            "eligible_segments", "join_on_first_purchase", "pending_days", "expiry_policy",
            "expiry_months", "tier_basis", "qualification_days", "downgrade_policy", "grace_days",
        ]  # fmt: skip
        widgets = {"starts_on": _date(), "ends_on": _date()}


class TierForm(forms.ModelForm):
    class Meta:
        model = Tier
        fields = ["name", "threshold", "multiplier", "perks"]

    def clean(self):
        data = super().clean() or {}
        if self.errors:
            return data
        others = self.instance.program.tiers.exclude(pk=self.instance.pk)
        rows = [(t.name, t.threshold, t.multiplier) for t in others]
        rows.append((data["name"], data["threshold"], data["multiplier"]))
        for problem in tier_problems(rows):
            field = "name" if "same name" in problem else "threshold"
            if "earns less" in problem:
                field = "multiplier"
            self.add_error(field, problem)
        return data


class RuleForm(forms.ModelForm):
    class Meta:
        model = EarningRule
        fields = [
            "name", "kind", "priority", "is_active", "points_per_unit", "excluded_categories",
            "event_code", "points", "multiplier", "tier", "segment", "category", "starts_on",
            "ends_on", "cap_per_day", "cap_per_month",
        ]  # fmt: skip
        widgets = {"starts_on": _date(), "ends_on": _date()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "tier").queryset = self.instance.program.tiers.order_by(
            "threshold"
        )


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = [
            "name", "description", "cost", "stock", "per_customer_limit", "valid_from",
            "valid_until", "tiers", "is_active",
        ]  # fmt: skip
        widgets = {"valid_from": _date(), "valid_until": _date()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "tiers").queryset = self.instance.program.tiers.order_by(
            "threshold"
        )
        self.fields["tiers"].help_text = "Empty: every member may redeem it."

    def clean(self):
        data = super().clean() or {}
        if self.errors or not data.get("is_active", True):
            return data
        for problem in reward_problems(
            program=self.instance.program,
            cost=data.get("cost"),
            tiers=data.get("tiers") or [],
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
        ):
            self.add_error(
                "valid_until" if "stops" in problem or "starts" in problem else "cost", problem
            )
        return data


class OfferForm(forms.ModelForm):
    class Meta:
        model = Offer
        fields = [
            "name", "kind", "description", "coupon_code", "segment", "tier", "bought_category",
            "not_bought_category", "valid_from", "valid_until", "usage_limit",
            "per_customer_limit", "is_active",
        ]  # fmt: skip
        widgets = {"valid_from": _date(), "valid_until": _date()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.program_id:
            model_choice_field(self, "tier").queryset = self.instance.program.tiers.order_by(
                "threshold"
            )


class TierEditForm(EffectiveOnMixin, TierForm):
    pass


class RuleEditForm(EffectiveOnMixin, RuleForm):
    pass


class RewardEditForm(EffectiveOnMixin, RewardForm):
    pass


class OfferEditForm(EffectiveOnMixin, OfferForm):
    pass


class ProgramEditForm(EffectiveOnMixin, ProgramForm):
    pass


class PreviewForm(forms.Form):
    customer = forms.IntegerField(
        label="Customer number",
        min_value=1,
        max_value=2**62,
        help_text="The number in the customer's page address (/customers/<number>/).",
    )
