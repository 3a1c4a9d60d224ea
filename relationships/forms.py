"""Staff forms on relationships (interactions, defections, the ladder, corrective plans
and actions, the report's filters): shape checks only; relationships.services decides."""

import datetime as dt

from django import forms
from django.utils import timezone

from customers.models import Stage
from customers.web import DateTimeField, datetime_local_widget, model_choice_field, now_local

from .models import (
    HANDLED_NOTE_MAX,
    Channel,
    DefectionReason,
    InteractionKind,
    PlanStatus,
    PurchaseRhythm,
    RelationshipGoal,
    RelationshipType,
    Sentiment,
)
from .selectors import ReportScope, staff_users

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
UNKNOWN_REASON = "Choose one of the reasons in the list; that one is unknown or no longer in use."


def active_reasons():
    return DefectionReason.objects.filter(is_active=True)


class ReasonField(forms.ModelChoiceField):
    """A reason from the active taxonomy (the queryset is copied, so re-read, per form)."""

    def __init__(self, *, required_message: str = "", **kwargs):
        messages = {"invalid_choice": UNKNOWN_REASON}
        if required_message:
            messages["required"] = required_message
        super().__init__(queryset=active_reasons(), error_messages=messages, **kwargs)


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE)
    kind = forms.ChoiceField(choices=InteractionKind.choices, initial=InteractionKind.CHECK_IN)
    subject = forms.CharField(max_length=200)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    sentiment = forms.TypedChoiceField(
        coerce=int, choices=Sentiment.choices, initial=Sentiment.NEUTRAL
    )
    occurred_at = DateTimeField(
        label="When", required=False, widget=datetime_local_widget(), initial=now_local
    )
    follow_up_on = forms.DateField(label="Follow up on", required=False, widget=DATE)
    root_cause = ReasonField(
        label="Root cause",
        required=False,
        empty_label="—",
        help_text="For a complaint: what it is about.",
    )


UNKNOWN_ASSIGNEE = "Choose an active account manager or admin; that one is unknown or inactive."


def assignee_field(*, required: bool) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=staff_users(),
        label="Assigned to",
        required=required,
        empty_label="The customer's manager" if not required else "—",
        error_messages={"invalid_choice": UNKNOWN_ASSIGNEE},
    )


class FollowUpForm(forms.Form):
    """A follow-up on its own. Only an admin sees the assignee: for a manager it is
    always the customer's manager (themselves)."""

    what = forms.CharField(label="What to do", max_length=200)
    due_on = forms.DateField(label="Due on", widget=DATE)
    assignee = assignee_field(required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        if actor.is_admin:
            model_choice_field(self, "assignee").queryset = staff_users()
        else:
            del self.fields["assignee"]


class FollowUpRescheduleForm(forms.Form):
    due_on = forms.DateField(label="New due date", widget=DATE)


class FollowUpReassignForm(forms.Form):
    assignee = assignee_field(required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "assignee").queryset = staff_users()


class FollowUpDoneForm(forms.Form):
    note = forms.CharField(
        label="What came of it",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional; kept with the follow-up on the customer page.",
    )


class RiskFlagHandleForm(forms.Form):
    # Required, trimmed and length-checked by the service, so form and API say the same.
    note = forms.CharField(
        label="What did you do?",
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "maxlength": HANDLED_NOTE_MAX,
                "placeholder": "Called, offered a discount, visit on Friday...",
            }
        ),
    )


class RootCauseForm(forms.Form):
    root_cause = ReasonField(
        label="Root cause",
        empty_label="Choose a cause",
        required_message="Choose the complaint's root cause.",
    )


class DefectionForm(forms.Form):
    reason = ReasonField(
        label="Why did they leave?",
        empty_label="Choose a reason",
        required_message="Choose why the customer left.",
    )
    defected_on = forms.DateField(
        label="Left on", required=False, widget=DATE, help_text="Today when left empty."
    )
    exit_interview_notes = forms.CharField(
        label="Exit-interview note",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional: what the customer said when they left.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["defected_on"].initial = timezone.localdate()


class ReportScopeForm(forms.Form):
    """The report's drill-down links: ?reason=<code> (or ?unclassified=1 for complaints
    with no cause) and ?month=YYYY-MM; none of them means the report's whole window."""

    reason = forms.ModelChoiceField(
        queryset=DefectionReason.objects.all(),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": "There is no reason with that code."},
    )
    unclassified = forms.BooleanField(required=False)
    month = forms.CharField(required=False, max_length=7)

    def clean_month(self) -> dt.date | None:
        value = self.cleaned_data["month"]
        if not value:
            return None
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a month
        except ValueError as exc:
            raise forms.ValidationError("Give the month as YYYY-MM, e.g. 2026-03.") from exc

    def scope(self) -> ReportScope:
        data = self.cleaned_data
        return ReportScope(
            reason=data["reason"], unclassified=data["unclassified"], month=data["month"]
        )


class PlanFilterForm(forms.Form):
    cause = forms.ModelChoiceField(
        queryset=DefectionReason.objects.all(),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": "There is no cause with that code."},
    )


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


class SegmentStrategyForm(forms.Form):
    """A segment and its relationship strategy on one page (services.segment_strategy_save)."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    inactivity_days = forms.IntegerField(
        min_value=1,
        max_value=36_500,
        initial=365,
        label="Lost after (days without a purchase)",
        help_text="A marriage customer with no purchase for this long no longer counts as retained.",
    )
    relationship_types = forms.MultipleChoiceField(
        choices=RelationshipType.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Relationship types",
        error_messages={"required": "Choose at least one relationship type."},
    )
    goal = forms.ChoiceField(choices=RelationshipGoal.choices, widget=forms.RadioSelect)
    rhythm = forms.ChoiceField(
        choices=PurchaseRhythm.choices, widget=forms.RadioSelect, initial=PurchaseRhythm.MARRIAGE
    )
    expected_gap_days = forms.IntegerField(
        min_value=1,
        max_value=36_500,
        required=False,
        label="Expected gap (days between purchases)",
        help_text="Required for a marriage: the usual time between two purchases.",
    )
    cost_to_serve_per_year = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        initial=0,
        label="Cost to serve (a customer a year)",
    )
    currency = forms.CharField(min_length=3, max_length=3, initial="EUR")
    switching_costs = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Switching costs",
        help_text="What makes it hard for these customers to change supplier, and how we raise it.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean() or {}
        # Said here too, so it shows next to the other mistakes of the same post.
        if cleaned.get("rhythm") == PurchaseRhythm.MARRIAGE and not cleaned.get(
            "expected_gap_days"
        ):
            self.add_error(
                "expected_gap_days",
                "A marriage needs the expected number of days between purchases.",
            )
        return cleaned

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)
