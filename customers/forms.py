"""Staff forms on customers: they check the shape of the input; the services decide."""

from __future__ import annotations

from typing import cast

from django import forms

from .models import Customer, CustomerStatus, Role, User
from .selectors import account_managers, book_holders
from .web import DateTimeField, datetime_local_widget, model_choice_field, now_local


class CustomerForm(forms.ModelForm):
    tags = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Separate tags with commas, e.g. vip, newsletter.",
    )

    class Meta:
        model = Customer
        fields = [*Customer.EDITABLE_FIELDS, "account_manager"]
        widgets = {
            "acquired_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "address": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tags"].initial = ", ".join(t.name for t in self.instance.tags.all())
        if self.instance.status != CustomerStatus.DEFECTED:
            # Leaving is recorded with its reason through "Mark defected"; the service
            # refuses the bare status too, should it be posted anyway.
            status = cast(forms.ChoiceField, self.fields["status"])
            status.widget.choices = [
                (v, label) for v, label in CustomerStatus.choices if v != CustomerStatus.DEFECTED
            ]
            status.help_text = (
                "To record that the customer left, use “Mark defected” on their page."
            )
        if actor.is_admin and not self.instance.pk:
            manager = model_choice_field(self, "account_manager")
            manager.queryset = account_managers()
            manager.empty_label = "Nobody yet"
        else:
            # Managers create into their own book; later changes go through reassignment.
            del self.fields["account_manager"]

    def clean_tags(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data["tags"].split(",") if n.strip()]
        too_long = [n for n in names if len(n) > 50]
        if too_long:
            raise forms.ValidationError(f"Tags can be at most 50 characters: {too_long[0][:60]}")
        return names

    def service_kwargs(self) -> dict:
        """The cleaned fields in the shape customer_create / customer_update take."""
        return {name: self.cleaned_data[name] for name in self.fields}


class ReassignForm(forms.Form):
    account_manager: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Nobody (unassigned)",
        label="New account manager",
    )
    reason = forms.CharField(
        max_length=300, widget=forms.Textarea(attrs={"rows": 3}), help_text="Kept in the history."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "account_manager").queryset = account_managers()


class PurchaseForm(forms.Form):
    reference = forms.CharField(max_length=100, help_text="Invoice or order number.")
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = forms.CharField(max_length=3, min_length=3, initial="EUR")
    occurred_at = DateTimeField(label="When", widget=datetime_local_widget(), initial=now_local)
    product = forms.CharField(max_length=200, required=False)
    category = forms.CharField(max_length=100, required=False)


class StaffInviteForm(forms.Form):
    email = forms.EmailField(max_length=150, label="E-mail", help_text="Also their username.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(
        choices=[(Role.ACCOUNT_MANAGER.value, "Account manager"), (Role.ADMIN.value, "Admin")],
        initial=Role.ACCOUNT_MANAGER,
    )


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        size = getattr(obj, "book_size", None)
        if size is None:
            return str(obj)
        return f"{obj} ({size:,} customer{'s' if size != 1 else ''})"


class BookReassignForm(forms.Form):
    from_manager = _PersonChoice(queryset=None, label="Hand over the book of")
    to_manager = _PersonChoice(queryset=None, label="To")
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in every customer's assignment history.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "from_manager").queryset = book_holders()
        model_choice_field(self, "to_manager").queryset = account_managers()
