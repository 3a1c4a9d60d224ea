from django.urls import path

from . import views

urlpatterns = [
    path("follow-ups/", views.follow_up_list, name="follow-up-list"),
]
