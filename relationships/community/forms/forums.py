"""Forms of the forum pages: they check the shape of the input; the services the rules."""

from __future__ import annotations

from django import forms

from ..models import BODY_MAX, TITLE_MAX, TopicKind

BODY_HELP = "Markdown: **bold**, *italic*, `code`, > quote, - lists, [links](https://…)."


class TopicForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    kind = forms.ChoiceField(
        choices=TopicKind.choices,
        initial=TopicKind.DISCUSSION,
        help_text="A question can get an accepted answer.",
    )
    body = forms.CharField(
        max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 10}), help_text=BODY_HELP
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=BODY_HELP,
    )
    quoted_post = forms.IntegerField(
        required=False, min_value=1, max_value=2**62, widget=forms.HiddenInput
    )


class EditForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX, required=False)
    body = forms.CharField(
        max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 12}), help_text=BODY_HELP
    )
    reason = forms.CharField(
        max_length=200,
        required=False,
        help_text="Optional: why you changed it (shown in the history).",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


class SearchForm(forms.Form):
    q = forms.CharField(label="Search the forums", max_length=200, required=False)


class BanForm(forms.Form):
    username = forms.CharField(max_length=150)
    reason = forms.CharField(max_length=500)
    days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, help_text="Leave empty for a ban until lifted."
    )
