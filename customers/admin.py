from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .admin_mixins import ReadOnlyAdmin, RecordAdmin
from .errors import ApplicationError, ValidationFailed
from .models import (
    AccountManagerAssignment,
    ConsentChange,
    Customer,
    CustomerMerge,
    DeletionRequest,
    DeletionStatus,
    ImportJob,
    Purchase,
    Segment,
    StageChange,
    Tag,
    User,
)
from .services import (
    check_not_last_admin,
    check_status_change,
    deletion_request_complete,
    deletion_request_refuse,
)


class UserChange(UserChangeForm):
    # django-stubs do not declare the auth forms' Meta, which Django's docs subclass like this.
    class Meta(UserChangeForm.Meta):  # type: ignore[name-defined]
        model = User
        fields = "__all__"

    def clean(self):
        cleaned = super().clean() or {}
        # The power tool keeps the rule of the staff pages: someone stays an active admin.
        try:
            check_not_last_admin(
                user=self.instance,
                role=cleaned.get("role", self.instance.role),
                is_active=cleaned.get("is_active", self.instance.is_active),
            )
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc
        return cleaned


class UserCreation(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):  # type: ignore[name-defined]  # as above
        model = User
        fields = ("username", "email", "role")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChange
    add_form = UserCreation
    list_display = ("username", "get_full_name", "email", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "role", "password1", "password2"),
            },
        ),
    )


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "inactivity_days", "created_at")
    search_fields = ("name", "description")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


class AssignmentInline(admin.TabularInline):
    model = AccountManagerAssignment
    fk_name = "customer"
    extra = 0
    fields = ("account_manager", "started_at", "ended_at", "reason", "changed_by")
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False  # reassign through the staff page so the history stays consistent


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    fields = ("changed_at", "from_stage", "to_stage", "changed_by", "rule", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PurchaseInline(admin.TabularInline):
    model = Purchase
    extra = 0
    fields = ("reference", "occurred_at", "amount", "currency", "product", "category")
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    ordering = ("-occurred_at",)
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-occurred_at")


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose what shows

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        try:
            check_status_change(
                current=self.instance.status if self.instance.pk else None, new=status
            )
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from exc
        return status


PREFERENCE_FIELDS = (*Customer.CHANNEL_FIELDS, "newsletter_consent", "newsletter_consent_at")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = (
        "name",
        "kind",
        "company",
        "segment",
        "stage",
        "status",
        "account_manager",
        "acquired_on",
    )
    list_filter = ("status", "stage", "kind", "segment", "account_manager")
    search_fields = ("name", "email", "company", "phone", "external_id")
    list_select_related = ("segment", "account_manager")
    autocomplete_fields = ("segment", "user")
    filter_horizontal = ("tags",)
    readonly_fields = (
        "account_manager",
        "created_at",
        "updated_at",
        # The customer's own choices: changed by them in the portal, with a consent record.
        *PREFERENCE_FIELDS,
    )
    date_hierarchy = "acquired_on"
    show_full_result_count = False  # COUNT(*) over a million rows on every page is wasted work
    inlines = (AssignmentInline, StageChangeInline, PurchaseInline)
    fieldsets = (
        (
            None,
            {"fields": ("kind", "name", "company", "email", "phone", "address", "external_id")},
        ),
        (
            "Relationship",
            {"fields": ("segment", "stage", "status", "acquired_on", "account_manager", "tags")},
        ),
        ("Portal", {"fields": ("user",)}),
        ("Communication preferences (set by the customer)", {"fields": PREFERENCE_FIELDS}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "customer",
        "occurred_at",
        "amount",
        "currency",
        "product",
        "category",
    )
    list_filter = ("currency", "category")
    search_fields = ("reference", "customer__name", "product")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(AccountManagerAssignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("customer", "account_manager", "started_at", "ended_at", "reason", "changed_by")
    list_filter = ("account_manager",)
    search_fields = ("customer__name", "reason")
    list_select_related = ("customer", "account_manager", "changed_by")
    raw_id_fields = ("customer",)


@admin.register(CustomerMerge)
class CustomerMergeAdmin(RecordAdmin):
    list_display = ("absorbed_id", "absorbed_name", "survivor", "merged_by", "merged_at")
    search_fields = ("absorbed_name", "absorbed_email", "survivor_name")
    list_select_related = ("survivor", "merged_by")
    raw_id_fields = ("survivor",)
    readonly_fields = (
        "survivor",
        "survivor_name",
        "absorbed_id",
        "absorbed_name",
        "absorbed_email",
        "merged_by",
        "merged_at",
        "moved",
        "notes",
    )


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ("customer", "from_stage", "to_stage", "changed_at", "changed_by", "rule")
    list_filter = ("to_stage", "rule")
    search_fields = ("customer__name", "reason")
    raw_id_fields = ("customer",)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "filename",
        "kind",
        "mode",
        "status",
        "imported_rows",
        "total_rows",
        "created_by",
        "created_at",
    )
    list_filter = ("kind", "status")
    exclude = ("content",)
    readonly_fields = (
        "kind",
        "mode",
        "filename",
        "status",
        "total_rows",
        "processed_rows",
        "imported_rows",
        "errors",
        "created_by",
        "created_at",
        "finished_at",
        "task_id",
        "send_tried_at",
        "sent_at",
    )

    def has_add_permission(self, request):
        return False


@admin.register(ConsentChange)
class ConsentChangeAdmin(RecordAdmin):
    list_display = ("customer", "newsletter", "changed_at", "source", "changed_by")
    list_filter = ("newsletter", "source")
    search_fields = ("customer__name", "customer__email")
    list_select_related = ("customer", "changed_by")
    raw_id_fields = ("customer",)


@admin.register(DeletionRequest)
class DeletionRequestAdmin(RecordAdmin):
    """Customers ask in the portal; an admin completes (anonymises) or refuses here."""

    list_display = ("customer", "requested_at", "status", "decided_at", "decided_by")
    list_filter = ("status",)
    search_fields = ("customer__name", "customer__email")
    list_select_related = ("customer", "decided_by")
    raw_id_fields = ("customer",)
    actions = ("complete", "refuse")

    def _decide(self, request, queryset, service, done: str, **kwargs) -> None:
        count = 0
        for deletion in queryset.filter(status=DeletionStatus.PENDING).select_related("customer"):
            try:
                service(actor=request.user, request=deletion, **kwargs)
            except ApplicationError as exc:
                self.message_user(request, f"{deletion}: {exc.message}", messages.ERROR)
            else:
                count += 1
        self.message_user(request, f"{count} request(s) {done}.", messages.SUCCESS)

    @admin.action(description="Complete: anonymise the customer and close their login")
    def complete(self, request, queryset) -> None:
        self._decide(request, queryset, deletion_request_complete, "completed")

    @admin.action(description="Refuse (tell the customer why)")
    def refuse(self, request, queryset) -> None:
        note = f"Refused by {request.user} in the admin; the customer is told why."
        self._decide(request, queryset, deletion_request_refuse, "refused", note=note)
