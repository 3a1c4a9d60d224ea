from django.urls import path

from .views import defections, follow_ups, interactions, ladder, plans, risk, segments

urlpatterns = [
    path(
        "customers/<int:pk>/interactions/",
        interactions.interaction_log_view,
        name="interaction-log",
    ),
    path(
        "interactions/<int:pk>/root-cause/",
        interactions.complaint_root_cause_view,
        name="complaint-root-cause",
    ),
    path(
        "customers/<int:pk>/defect/",
        defections.customer_mark_defected_view,
        name="customer-mark-defected",
    ),
    path("follow-ups/", follow_ups.follow_up_list, name="follow-up-list"),
    path("follow-ups/new/", follow_ups.follow_up_pick_customer, name="follow-up-pick-customer"),
    path("customers/<int:pk>/follow-ups/new/", follow_ups.follow_up_add_view, name="follow-up-add"),
    path("follow-ups/<int:pk>/done/", follow_ups.follow_up_done, name="follow-up-done"),
    path(
        "follow-ups/<int:pk>/reschedule/",
        follow_ups.follow_up_reschedule_view,
        name="follow-up-reschedule",
    ),
    path(
        "follow-ups/<int:pk>/reassign/",
        follow_ups.follow_up_reassign_view,
        name="follow-up-reassign",
    ),
    path("risk-flags/<int:pk>/handle/", risk.risk_flag_handle_view, name="risk-flag-handle"),
    path("ladder/", ladder.ladder, name="ladder"),
    path(
        "ladder/suggestions/<int:pk>/decide/",
        ladder.ladder_suggestion_decide_view,
        name="ladder-suggestion-decide",
    ),
    path("customers/<int:pk>/ladder/", ladder.customer_ladder, name="customer-ladder"),
    path("analytics/defections/", defections.defection_report_view, name="defection-report"),
    path("analytics/defections/customers/", defections.defection_list_view, name="defection-list"),
    path("analytics/defections/complaints/", defections.complaint_list_view, name="complaint-list"),
    path("plans/", plans.plan_list, name="plan-list"),
    path("plans/new/", plans.plan_create, name="plan-create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/actions/", plans.plan_action_add, name="plan-action-add"),
    path("plans/actions/<int:pk>/done/", plans.plan_action_done, name="plan-action-done"),
    path("settings/segments/", segments.segment_list, name="segment-list"),
    path("settings/segments/new/", segments.segment_create, name="segment-create"),
    path("settings/segments/<int:pk>/", segments.segment_detail, name="segment-detail"),
    path("settings/segments/<int:pk>/edit/", segments.segment_edit, name="segment-edit"),
]
