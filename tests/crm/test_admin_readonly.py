"""Rows the app writes itself are shown in the Django admin and never edited there."""

import pytest
from django.contrib import admin
from django.urls import reverse

from customers.admin_mixins import ReadOnlyAdmin, RecordAdmin
from loyalty.models import LedgerEntry
from relationships.models import CustomerMetrics, NightlyState


@pytest.mark.parametrize(
    ("model", "deletable"), [(CustomerMetrics, True), (NightlyState, True), (LedgerEntry, False)]
)
def test_computed_rows_are_listed_but_cannot_be_added_or_changed(
    client, admin_user, model, deletable
):
    client.force_login(admin_user)
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert client.get(reverse(f"{name}_changelist")).status_code == 200
    assert client.get(reverse(f"{name}_add")).status_code == 403
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ReadOnlyAdmin)
    assert isinstance(model_admin, RecordAdmin) is not deletable
