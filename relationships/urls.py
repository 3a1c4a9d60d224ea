from django.urls import path

from . import views

urlpatterns = [
    path("customers/<int:pk>/interactions/", views.interaction_log_view, name="interaction-log"),
    path("follow-ups/", views.follow_up_list, name="follow-up-list"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow-up-done"),
]
