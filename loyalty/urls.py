from django.urls import path

from . import views
from .views import builder as builder_views

urlpatterns = [
    path("loyalty/programs/", views.program_list, name="loyalty-program-list"),
    path("loyalty/programs/<int:pk>/", views.program_detail, name="loyalty-program"),
    path("loyalty/programs/new/", builder_views.program_create, name="loyalty-program-create"),
    path(
        "loyalty/programs/<int:pk>/edit/", builder_views.program_edit, name="loyalty-program-edit"
    ),
    path(
        "loyalty/programs/<int:pk>/<slug:part>/new/",
        builder_views.part_edit,
        name="loyalty-part-create",
    ),
    path(
        "loyalty/programs/<int:pk>/<slug:part>/<int:item>/edit/",
        builder_views.part_edit,
        name="loyalty-part-edit",
    ),
    path(
        "loyalty/programs/<int:pk>/changes/<int:change>/cancel/",
        builder_views.change_cancel,
        name="loyalty-change-cancel",
    ),
    path(
        "loyalty/memberships/<int:pk>/adjust/",
        views.membership_adjust,
        name="loyalty-membership-adjust",
    ),
    path(
        "loyalty/customers/<int:pk>/give-offer/",
        views.offer_give,
        name="loyalty-offer-give",
    ),
]
