from django.urls import path

from . import practice_views as views

urlpatterns = [
    path("ladder/", views.ladder, name="ladder"),
    path(
        "ladder/suggestions/<int:pk>/decide/",
        views.ladder_suggestion_decide_view,
        name="ladder-suggestion-decide",
    ),
    path("customers/<int:pk>/ladder/", views.customer_ladder, name="customer-ladder"),
    path("analytics/defections/", views.defection_report_view, name="defection-report"),
    path("plans/", views.plan_list, name="plan-list"),
    path("plans/new/", views.plan_create, name="plan-create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/actions/", views.plan_action_add, name="plan-action-add"),
    path("plans/actions/<int:pk>/done/", views.plan_action_done, name="plan-action-done"),
]
