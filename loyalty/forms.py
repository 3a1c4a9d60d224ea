from django import forms

from .services import MAX_ADJUSTMENT


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
