"""Staff forms on relationships: shape checks only; relationships.services decides."""

from django import forms

from customers.web import datetime_local_widget, now_local

from .models import Channel, InteractionKind, Sentiment


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
    follow_up_on = forms.DateField(
        label="Follow up on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
