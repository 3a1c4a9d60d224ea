"""Admin bases for rows the app writes itself, shared by every app's admin."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows a service or the nightly run computes or records: shown in the Django admin,
    never added or edited there (the pages and services keep them consistent)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecordAdmin(ReadOnlyAdmin):
    """History nobody may alter, not even by deleting a row (ledgers, run logs)."""

    def has_delete_permission(self, request, obj=None):
        return False
