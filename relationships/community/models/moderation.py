"""Moderation: who moderates where, reports, posting bans and the log of every action."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .forums import Category, Post, Topic


class Moderator(models.Model):
    """A staff member who moderates one category, or every category when none is named.
    Admins moderate everywhere without a row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_moderator_of"
    )
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="moderators"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "category"], name="community_moderator_per_category"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(category__isnull=True),
                name="community_moderator_global",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} moderates {self.category or 'every category'}"


class Report(models.Model):
    """A member flags a post for moderators; open until a moderator resolves it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "reporter"],
                condition=Q(resolved_at__isnull=True),
                name="community_report_open_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Report on {self.post}"


class PostingBan(models.Model):
    """A person may not post while a ban is in force (no end date: until lifted)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_bans"
    )
    reason = models.CharField(max_length=500)
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "lifted_at"], name="community_ban_user")]

    def __str__(self) -> str:
        return f"Ban of {self.user}"


class ModerationActionKind(models.TextChoices):
    APPROVE = "approve", "Approved a held post"
    REJECT = "reject", "Rejected a held post"
    HIDE = "hide", "Hid a post"
    RESTORE = "restore", "Restored a post"
    DISMISS = "dismiss", "Dismissed reports"
    LOCK = "lock", "Locked a topic"
    UNLOCK = "unlock", "Unlocked a topic"
    PIN = "pin", "Pinned a topic"
    UNPIN = "unpin", "Unpinned a topic"
    MOVE = "move", "Moved a topic"
    EDIT = "edit", "Edited someone else's post"
    BAN = "ban", "Banned from posting"
    UNBAN = "unban", "Lifted a ban"


class ModerationAction(models.Model):
    """The log: every moderation action, who took it, on what, and why."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ModerationActionKind.choices)
    topic = models.ForeignKey(
        Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor} {self.kind} at {self.created_at:%Y-%m-%d %H:%M}"
