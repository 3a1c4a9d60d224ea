"""The admin as a working tool for admins: strategies, flags, runs, defections, interactions."""

from django import forms
from django.contrib import admin

from customers.admin_mixins import ReadOnlyAdmin
from customers.errors import ApplicationError

from .models import (
    CorrectiveAction,
    CorrectivePlan,
    CustomerMetrics,
    Defection,
    DefectionReason,
    FollowUp,
    Interaction,
    LadderSuggestion,
    ModelFit,
    NightlyRun,
    NightlyState,
    RelationshipStrategy,
    RelationshipType,
    RetentionSnapshot,
    RiskFlag,
    StrategicAssessment,
)
from .services import check_not_already_defected, defection_clean, defection_record


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "customer",
        "kind",
        "channel",
        "subject",
        "author",
        "sentiment",
        "follow_up_on",
        "root_cause",
    )
    list_filter = ("kind", "channel", "sentiment", "root_cause")
    search_fields = ("subject", "notes", "customer__name", "customer__email", "author__username")
    date_hierarchy = "occurred_at"
    raw_id_fields = ("customer",)
    autocomplete_fields = ("root_cause",)
    list_select_related = ("customer", "author", "root_cause")
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("due_on", "customer", "what", "assignee", "done_at")
    list_filter = (("done_at", admin.EmptyFieldListFilter), "assignee")
    search_fields = ("what", "customer__name", "assignee__username")
    date_hierarchy = "due_on"
    raw_id_fields = ("customer", "interaction")
    list_select_related = ("customer", "assignee")
    show_full_result_count = False


class RelationshipStrategyForm(forms.ModelForm):
    relationship_types = forms.MultipleChoiceField(
        choices=RelationshipType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = RelationshipStrategy
        fields = (
            "segment",
            "relationship_types",
            "goal",
            "rhythm",
            "expected_gap_days",
            "cost_to_serve_per_year",
            "currency",
            "notes",
        )


@admin.register(RelationshipStrategy)
class RelationshipStrategyAdmin(admin.ModelAdmin):
    form = RelationshipStrategyForm
    list_display = (
        "segment",
        "goal",
        "types",
        "rhythm",
        "expected_gap_days",
        "cost_to_serve_per_year",
        "currency",
        "updated_at",
    )
    list_filter = ("goal", "rhythm")
    search_fields = ("segment__name", "notes")
    list_select_related = ("segment",)

    @admin.display(description="Relationship types")
    def types(self, obj):
        return ", ".join(obj.relationship_type_labels)


@admin.register(StrategicAssessment)
class StrategicAssessmentAdmin(admin.ModelAdmin):
    list_display = (
        "customer",
        "score",
        "is_reference",
        "size_score",
        "note",
        "assessed_by",
        "updated_at",
    )
    list_filter = ("is_reference",)
    search_fields = ("customer__name", "note")
    raw_id_fields = ("customer",)
    list_select_related = ("customer", "assessed_by")

    def save_model(self, request, obj, form, change):
        obj.assessed_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CustomerMetrics)
class CustomerMetricsAdmin(ReadOnlyAdmin):
    """Written by the nightly run only: read-only here so an edit is not silently overwritten."""

    list_display = (
        "customer",
        "computed_for",
        "risk_score",
        "value_at_risk",
        "clv_12m",
        "p_alive",
        "purchase_count",
        "revenue",
        "days_since_last_purchase",
        "financial_band",
        "strategic_band",
    )
    list_filter = ("computed_for", "financial_band", "strategic_band", "customer__segment")
    search_fields = ("customer__name", "customer__email")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(RiskFlag)
class RiskFlagAdmin(ReadOnlyAdmin):
    list_display = (
        "customer",
        "account_manager",
        "raised_on",
        "cleared_on",
        "score",
        "value_at_risk",
        "handled",
        "handled_by",
        "reraised_on",
    )
    list_filter = (
        ("cleared_on", admin.EmptyFieldListFilter),
        "handled",
        ("reraised_on", admin.EmptyFieldListFilter),
        "raised_on",
        "account_manager",
    )
    search_fields = ("customer__name", "customer__email", "handled_note")
    date_hierarchy = "raised_on"
    list_select_related = ("customer", "account_manager", "handled_by")
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(ModelFit)
class ModelFitAdmin(ReadOnlyAdmin):
    list_display = (
        "run_date",
        "n_customers",
        "bgnbd_r",
        "bgnbd_alpha",
        "bgnbd_a",
        "bgnbd_b",
        "gg_p",
        "gg_q",
        "gg_v",
        "holdout_days",
        "holdout_mae",
        "bgnbd_converged",
        "gg_converged",
        "penalizer",
    )
    date_hierarchy = "run_date"


@admin.register(RetentionSnapshot)
class RetentionSnapshotAdmin(ReadOnlyAdmin):
    list_display = (
        "run_date",
        "period_kind",
        "period_start",
        "period_end",
        "cut_kind",
        "cut_label",
        "at_start",
        "retained",
        "new",
        "lost",
        "retention_rate",
        "lifetime_periods",
        "revenue_retention",
    )
    list_filter = ("run_date", "period_kind", "cut_kind")
    search_fields = ("cut_key", "cut_label")


@admin.register(NightlyRun)
class NightlyRunAdmin(admin.ModelAdmin):
    list_display = ("run_date", "status", "mode", "started_at", "finished_at", "total_seconds")
    list_filter = ("status", "mode")
    readonly_fields = (
        "run_date",
        "status",
        "mode",
        "mode_reason",
        "started_at",
        "finished_at",
        "rows",
        "durations",
        "error",
    )

    def has_add_permission(self, request):
        return False


@admin.register(NightlyState)
class NightlyStateAdmin(ReadOnlyAdmin):
    """The kept summaries are a cache for the next night: shown, never edited (deleting
    it makes the next night a full one)."""

    list_display = ("run", "version", "customers", "created_at")
    fields = ("run", "version", "customers", "created_at")
    readonly_fields = fields


@admin.register(DefectionReason)
class DefectionReasonAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_active", "position", "description")
    list_editable = ("is_active", "position")
    list_filter = ("is_active",)
    search_fields = ("name", "code", "description")
    prepopulated_fields = {"code": ("name",)}


class DefectionAdminForm(forms.ModelForm):
    class Meta:
        model = Defection
        fields = ("customer", "reason", "defected_on", "exit_interview_notes")

    def clean(self):
        data = super().clean() or {}
        customer, reason = data.get("customer"), data.get("reason")
        if self.instance.pk or customer is None or reason is None:
            return data  # a correction of a recorded defection, or already an error
        # A new one goes through defection_record: its refusals become form errors here.
        try:
            defection_clean(
                reason=reason,
                defected_on=data.get("defected_on"),
                exit_interview_notes=data.get("exit_interview_notes", ""),
                acquired_on=customer.acquired_on,
            )
            check_not_already_defected(customer)
        except ApplicationError as exc:
            field = exc.field if exc.field in self.fields else None
            raise forms.ValidationError({field: exc.message} if field else exc.message) from exc
        return data


@admin.register(Defection)
class DefectionAdmin(admin.ModelAdmin):
    form = DefectionAdminForm
    list_display = ("customer", "reason", "defected_on", "recorded_by", "created_at")
    list_filter = ("reason", "defected_on")
    search_fields = ("customer__name", "exit_interview_notes")
    date_hierarchy = "defected_on"
    raw_id_fields = ("customer",)
    list_select_related = ("customer", "reason", "recorded_by")
    readonly_fields = ("recorded_by", "created_at")

    def save_model(self, request, obj, form, change):
        # Recording goes through the service so the customer's status follows.
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = defection_record(
            actor=request.user,
            customer=obj.customer,
            reason=obj.reason,
            defected_on=obj.defected_on,
            exit_interview_notes=obj.exit_interview_notes,
        )
        obj.pk = saved.pk
        obj.recorded_by = saved.recorded_by
        obj.created_at = saved.created_at


@admin.register(LadderSuggestion)
class LadderSuggestionAdmin(admin.ModelAdmin):
    """Read-only here: accepting or dismissing goes through the Ladder page, which writes
    the ladder history in the same transaction."""

    list_display = (
        "customer",
        "from_stage",
        "to_stage",
        "rule",
        "status",
        "created_on",
        "decided_by",
    )
    list_filter = ("status", "to_stage", "rule")
    search_fields = ("customer__name", "reason")
    raw_id_fields = ("customer",)
    readonly_fields = [f.name for f in LadderSuggestion._meta.fields]

    def has_add_permission(self, request):
        return False


class CorrectiveActionInline(admin.TabularInline):
    model = CorrectiveAction
    extra = 0
    fields = ("description", "owner", "due_on", "status", "done_at")
    # Marking done stamps the time: that happens on the plan page (action_mark_done).
    readonly_fields = ("status", "done_at")


@admin.register(CorrectivePlan)
class CorrectivePlanAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "owner", "started_on", "created_at")
    list_filter = ("status", "causes")
    search_fields = ("title", "description")
    filter_horizontal = ("causes", "recovery_team")
    inlines = (CorrectiveActionInline,)
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
