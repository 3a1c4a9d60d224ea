from django.urls import path

from . import loyalty_preview, views

urlpatterns = [
    path("", views.home, name="home"),
    path("customers/<int:pk>/", views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/timeline/", views.customer_timeline_page, name="customer-timeline"),
    path("customers/<int:pk>/changes/", views.customer_changes_page, name="customer-changes"),
    path(
        "loyalty/programs/<int:pk>/preview/",
        loyalty_preview.loyalty_preview,
        name="loyalty-program-preview",
    ),
]
