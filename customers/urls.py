from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.customer_list, name="customer-list"),
    path("customers/export.csv", views.customer_export, name="customer-export"),
    path("customers/new/", views.customer_create_view, name="customer-create"),
    path("customers/<int:pk>/edit/", views.customer_edit_view, name="customer-edit"),
    path("customers/<int:pk>/reassign/", views.customer_reassign_view, name="customer-reassign"),
    path("customers/<int:pk>/purchases/new/", views.purchase_create_view, name="purchase-create"),
]
