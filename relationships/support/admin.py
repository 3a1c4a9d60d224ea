"""Support requests in the Django admin: to look up and audit; answering happens on the
support pages (/support/), which keep status, mail and the interaction consistent."""

from django.contrib import admin

from customers.admin_mixins import ReadOnlyAdmin

from .models import SupportMessage, SupportRequest

MESSAGE_FIELDS = ("created_at", "author", "from_staff", "internal", "body", "attachment_name")


class MessageInline(admin.TabularInline):
    model = SupportMessage
    fields = MESSAGE_FIELDS
    readonly_fields = MESSAGE_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SupportRequest)
class SupportRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "subject", "customer", "category", "status", "assigned_to", "rating"]
    list_filter = ["status", "category", "rating"]
    search_fields = ["subject", "customer__name", "customer__email"]
    list_select_related = ["customer", "assigned_to"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]
