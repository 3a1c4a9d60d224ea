from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.customer_list, name="customer-list"),
    path("customers/export.csv", views.customer_export, name="customer-export"),
    path("customers/new/", views.customer_create_view, name="customer-create"),
    path("customers/<int:pk>/edit/", views.customer_edit_view, name="customer-edit"),
    path("customers/<int:pk>/reassign/", views.customer_reassign_view, name="customer-reassign"),
    path(
        "customers/<int:pk>/portal-invite/",
        views.customer_portal_invite_view,
        name="customer-portal-invite",
    ),
    path("customers/<int:pk>/merge/", views.customer_merge_view, name="customer-merge"),
    path("customers/<int:pk>/purchases/new/", views.purchase_create_view, name="purchase-create"),
    path("imports/", views.import_list, name="import-list"),
    path("imports/new/", views.import_create, name="import-create"),
    path("imports/template/<str:kind>.csv", views.import_template, name="import-template"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:pk>/send/", views.import_send_again, name="import-send"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import-confirm"),
    path("settings/users/", views.staff_list, name="staff-list"),
    path("settings/users/invite/", views.staff_invite_view, name="staff-invite"),
    path(
        "settings/users/<int:pk>/invite/send/",
        views.staff_invite_resend_view,
        name="staff-invite-resend",
    ),
    path(
        "settings/users/<int:pk>/deactivate/",
        views.staff_deactivate_view,
        name="staff-deactivate",
    ),
    path("settings/users/reassign/", views.book_reassign_view, name="book-reassign"),
    path(
        "welcome/<uidb64>/<token>/",
        views.StaffInviteAcceptView.as_view(),
        name="staff-invite-accept",
    ),
]
