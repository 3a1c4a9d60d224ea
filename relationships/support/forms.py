from __future__ import annotations

from django import forms

from relationships.models import DefectionReason

from .attachments import ALLOWED_LABEL
from .models import Category, Status

ATTACHMENT_HELP = f"Optional: {ALLOWED_LABEL}, at most 5 MB."


def _attachment() -> forms.FileField:
    return forms.FileField(
        required=False,
        label="Attachment",
        help_text=ATTACHMENT_HELP,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp,application/pdf,.txt"}
        ),
    )


class RequestForm(forms.Form):
    category = forms.ChoiceField(
        label="What is it about?",
        choices=[("", "Choose…"), *Category.choices],
        error_messages={"required": "Choose what your request is about."},
    )
    subject = forms.CharField(
        label="Subject",
        max_length=200,
        error_messages={"required": "Say in a few words what it is about."},
    )
    body = forms.CharField(
        label="Your message",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write your message: what happened, and what you need."},
    )
    attachment = _attachment()


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write your reply before sending it."},
    )
    attachment = _attachment()


class ReopenForm(forms.Form):
    body = forms.CharField(
        label="What is still wrong? (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How good was our answer?",
        coerce=int,
        choices=[
            (n, f"{n}: {label}")
            for n, label in [
                (5, "Very good"),
                (4, "Good"),
                (3, "OK"),
                (2, "Poor"),
                (1, "Very poor"),
            ]
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating from 1 to 5."},
    )
    comment = forms.CharField(
        label="Anything to add? (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StaffReplyForm(forms.Form):
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Write the reply (or the note) before sending it."},
    )
    internal = forms.BooleanField(
        label="Internal note (the customer does not see it)", required=False
    )
    attachment = _attachment()


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Status.choices)


class RootCauseForm(forms.Form):
    root_cause = forms.ModelChoiceField(
        label="Root cause",
        queryset=DefectionReason.objects.filter(is_active=True),
        empty_label="Choose…",
    )
