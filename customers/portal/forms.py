"""Portal forms: they check the shape of the input; the services decide."""

from __future__ import annotations

from django import forms

from ..models import Customer


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = list(Customer.SELF_EDITABLE_FIELDS)
        labels = {"name": "Your name", "email": "E-mail", "company": "Company (optional)"}
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "company": forms.TextInput(attrs={"autocomplete": "organization"}),
        }
        help_texts = {"email": "Where we write to you. Your login stays the same."}
        error_messages = {"name": {"required": "Please give your name."}}

    def clean_name(self) -> str:
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise forms.ValidationError("Please give your name.")
        return name

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in Customer.SELF_EDITABLE_FIELDS}


class PreferencesForm(forms.Form):
    allows_email = forms.BooleanField(required=False, label="E-mail")
    allows_phone = forms.BooleanField(required=False, label="Phone calls")
    allows_sms = forms.BooleanField(required=False, label="Text messages")
    allows_post = forms.BooleanField(required=False, label="Post")
    newsletter = forms.BooleanField(
        required=False,
        label="Yes, send me the newsletter with news and offers",
        help_text="You can withdraw this at any time here.",
    )

    @classmethod
    def for_customer(cls, customer: Customer) -> PreferencesForm:
        initial = {name: getattr(customer, name) for name in Customer.CHANNEL_FIELDS}
        return cls(initial={**initial, "newsletter": customer.newsletter_consent})

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in [*Customer.CHANNEL_FIELDS, "newsletter"]}


class DeletionRequestForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Anything you want to tell us? (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label="I understand that my account will be closed and my details removed.",
        error_messages={"required": "Tick the box to confirm you want your account deleted."},
    )
