"""Forms of the co-creation pages. They only check the shape of the input; the services
decide the rest and their refusals come back as form errors (customers.web)."""

from __future__ import annotations

from django import forms

from ..models import STAFF_STATUSES, ReviewStatus
from ..services import ideas as idea_rules
from ..services import reviews as review_rules


class IdeaForm(forms.Form):
    title = forms.CharField(max_length=idea_rules.TITLE_MAX)
    body = forms.CharField(
        label="Describe your idea",
        max_length=idea_rules.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What would you like, and what would it help you do? Markdown works.",
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=idea_rules.COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class IdeaStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in STAFF_STATUSES])
    reply = forms.CharField(
        label="Reply to the customers",
        max_length=idea_rules.REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown on the idea with its new status. Markdown works.",
    )


class ModerateForm(forms.Form):
    hidden = forms.TypedChoiceField(
        choices=[("1", "Hide"), ("0", "Show")], coerce=lambda v: v == "1", label="Action"
    )
    reason = forms.CharField(
        max_length=idea_rules.REASON_MAX,
        required=False,
        help_text="Required when hiding: the author reads it.",
    )


class ReviewForm(forms.Form):
    product = forms.ChoiceField(
        label="Product you bought",
        error_messages={"invalid_choice": "Choose a product you have bought and not reviewed yet."},
    )
    rating = forms.TypedChoiceField(
        choices=[(str(n), f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
        coerce=int,
    )
    body = forms.CharField(
        label="Your review",
        max_length=review_rules.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, products: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "Choose a product…")] + [(p, p) for p in products]  # type: ignore[attr-defined]


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(ReviewStatus.APPROVED.value, "Approve"), (ReviewStatus.REJECTED.value, "Reject")]
    )
    reason = forms.CharField(
        max_length=review_rules.REASON_MAX,
        required=False,
        help_text="Required to reject: the customer reads it.",
    )
