"""Staff forms on relationships (interactions, the ladder, corrective plans and actions):
shape checks only; relationships.services decides."""

from django import forms

from customers.models import Stage
from customers.web import datetime_local_widget, model_choice_field, now_local

from .models import Channel, DefectionReason, InteractionKind, PlanStatus, Sentiment
from .selectors import staff_users

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE)
    kind = forms.ChoiceField(choices=InteractionKind.choices, initial=InteractionKind.CHECK_IN)
    subject = forms.CharField(max_length=200)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    sentiment = forms.TypedChoiceField(
        coerce=int, choices=Sentiment.choices, initial=Sentiment.NEUTRAL
    )
    occurred_at = forms.DateTimeField(
        label="When", required=False, widget=datetime_local_widget(), initial=now_local
    )
    follow_up_on = forms.DateField(label="Follow up on", required=False, widget=DATE)


class LadderMoveForm(forms.Form):
    to_stage = forms.ChoiceField(label="Move to", choices=Stage.choices)
    reason = forms.CharField(
        max_length=300,
        help_text="Why: what the customer did, or what changed.",
        widget=forms.TextInput(attrs={"size": 60}),
    )


class PlanForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    causes = forms.ModelMultipleChoiceField(
        label="Causes addressed",
        queryset=DefectionReason.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    owner = forms.ModelChoiceField(queryset=staff_users())
    recovery_team = forms.ModelMultipleChoiceField(
        queryset=staff_users(), required=False, widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(choices=PlanStatus.choices, initial=PlanStatus.DRAFT)
    started_on = forms.DateField(
        required=False, widget=DATE, help_text="Needed once the plan is active."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Querysets evaluated per form, so new staff and reasons show up.
        model_choice_field(self, "owner").queryset = staff_users()
        model_choice_field(self, "recovery_team").queryset = staff_users()
        model_choice_field(self, "causes").queryset = DefectionReason.objects.filter(is_active=True)


class ActionForm(forms.Form):
    description = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 50}))
    owner = forms.ModelChoiceField(queryset=staff_users())
    due_on = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "owner").queryset = staff_users()
