from django.urls import path

from . import views

urlpatterns = [
    path("my/profile/", views.profile, name="portal-profile"),
    path("my/preferences/", views.preferences, name="portal-preferences"),
    path("my/purchases/", views.purchases, name="portal-purchases"),
    path("my/delete/", views.deletion, name="portal-deletion"),
    path("my/delete/withdraw/", views.deletion_withdraw, name="portal-deletion-withdraw"),
]
