"""The admin for the forums: categories (access, segments, tiers, moderators), and the
moderation records to look through."""

from django.contrib import admin

from .models import Category, ModerationAction, Moderator, PostingBan, Report, Topic


class ModeratorInline(admin.TabularInline):
    model = Moderator
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "access", "position"]
    list_filter = ["access"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["segments", "tiers"]
    inlines = [ModeratorInline]


@admin.register(Moderator)
class ModeratorAdmin(admin.ModelAdmin):
    list_display = ["user", "category"]
    list_filter = ["category"]
    autocomplete_fields = ["user"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    # Read-mostly: moderation goes through the forum's own pages, which log it.
    list_display = ["title", "category", "author", "kind", "status", "is_pinned", "is_locked"]
    list_filter = ["category", "kind", "status", "is_pinned", "is_locked"]
    search_fields = ["title"]
    readonly_fields = [f.name for f in Topic._meta.fields]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["post", "reporter", "reason", "created_at", "resolved_at", "outcome"]
    list_filter = ["outcome"]
    readonly_fields = [f.name for f in Report._meta.fields]


@admin.register(PostingBan)
class PostingBanAdmin(admin.ModelAdmin):
    list_display = ["user", "reason", "banned_by", "created_at", "ends_at", "lifted_at"]
    readonly_fields = [f.name for f in PostingBan._meta.fields]


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "kind", "topic", "post", "target_user", "reason"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in ModerationAction._meta.fields]
