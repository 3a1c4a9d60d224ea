"""Forums: categories, topics, posts (with their edit history), likes, subscriptions,
notifications and read markers. Every post by a customer names the customer record it was
written for, so the community is part of that customer's relationship."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, Segment
from loyalty.models import Tier

TITLE_MAX = 200
BODY_MAX = 20000


class CategoryAccess(models.TextChoices):
    PUBLIC = "public", "Public (anyone, even logged out)"
    CUSTOMERS = "customers", "Customers only"
    RESTRICTED = "restricted", "Limited to segments or tiers"


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    access = models.CharField(
        max_length=20, choices=CategoryAccess.choices, default=CategoryAccess.CUSTOMERS
    )
    # A restricted category is open to customers of any of these segments or tiers.
    segments = models.ManyToManyField(Segment, blank=True, related_name="+")
    tiers = models.ManyToManyField(Tier, blank=True, related_name="+")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=Q(access__in=[a.value for a in CategoryAccess]),
                name="community_category_access_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TopicKind(models.TextChoices):
    DISCUSSION = "discussion", "Discussion"
    QUESTION = "question", "Question"


class PostStatus(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HELD = "held", "Held for approval"
    HIDDEN = "hidden", "Hidden by a moderator"


class Topic(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="topics")
    title = models.CharField(max_length=TITLE_MAX)
    kind = models.CharField(max_length=20, choices=TopicKind.choices, default=TopicKind.DISCUSSION)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="community_topics"
    )
    # The topic's status is its opening post's: held or hidden with it.
    status = models.CharField(max_length=20, choices=PostStatus.choices, default=PostStatus.VISIBLE)
    is_pinned = models.BooleanField(default=False)
    is_locked = models.BooleanField(default=False)
    accepted_post = models.ForeignKey(
        "Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Counters over visible posts, refreshed by the services whenever a post changes state.
    reply_count = models.PositiveIntegerField(default=0)
    last_post_number = models.PositiveIntegerField(default=0)
    last_posted_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_pinned", "-last_posted_at", "-id"]
        indexes = [
            models.Index(
                fields=["category", "-is_pinned", "-last_posted_at", "-id"],
                name="community_topic_listing",
            ),
            # The front page's latest activity across categories.
            models.Index(fields=["-last_posted_at", "-id"], name="community_topic_latest"),
            # The front page's topic counts, counted from the index alone.
            models.Index(
                fields=["category"],
                condition=Q(status="visible"),
                name="community_topic_visible",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in TopicKind]),
                name="community_topic_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(accepted_post__isnull=True) | Q(kind=TopicKind.QUESTION),
                name="community_topic_accepted_only_on_questions",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Post(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    number = models.PositiveIntegerField(help_text="1 is the opening post.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="community_posts"
    )
    # The relationship the post belongs to: set for customers, empty for staff.
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="community_posts"
    )
    by_staff = models.BooleanField(default=False)
    source = models.TextField(max_length=BODY_MAX)
    html = models.TextField(help_text="source rendered and sanitised at save")
    quoted_post = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=PostStatus.choices, default=PostStatus.VISIBLE)
    like_count = models.PositiveIntegerField(default=0)
    edit_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Kept up to date by the services on PostgreSQL (title and body); empty on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["topic", "number"]
        indexes = [
            models.Index(fields=["author", "-created_at"], name="community_post_author_recent"),
            models.Index(fields=["status", "created_at"], name="community_post_status"),
            # The GIN index on search_vector is created on PostgreSQL only (0002_forums).
        ]
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="community_post_number"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PostStatus]),
                name="community_post_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.number}"


class PostRevision(models.Model):
    """A post as it was before an edit: the history readers can open."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX, blank=True)
    source = models.TextField()
    html = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="community_revision_number"),
        ]

    def __str__(self) -> str:
        return f"{self.post} revision {self.number}"


class PostLike(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="community_like_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} likes {self.post}"


class Subscription(models.Model):
    """Someone following a topic: told of every new visible reply."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_subscriptions"
    )
    by_email = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="community_subscription_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.topic}"


class NotificationKind(models.TextChoices):
    REPLY = "reply", "New reply"
    ACCEPTED = "accepted", "Your answer was accepted"
    MODERATED = "moderated", "A moderator acted on your post"
    APPROVED = "approved", "Your post was approved"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "read_at", "-created_at"], name="community_notif_inbox"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class TopicReadMarker(models.Model):
    """How far a person has read a topic: replies numbered above it are unread."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="read_markers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_number = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="community_read_marker_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.topic} to #{self.last_read_number}"
