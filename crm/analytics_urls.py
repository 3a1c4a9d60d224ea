from django.urls import path

from . import analytics_views

urlpatterns = [
    path("at-risk/", analytics_views.at_risk, name="at-risk"),
    path("analytics/", analytics_views.analytics, name="analytics"),
]
