from django.urls import path

from . import views

urlpatterns = [
    path("loyalty/programs/", views.program_list, name="loyalty-program-list"),
    path("loyalty/programs/<int:pk>/", views.program_detail, name="loyalty-program"),
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
