"""Community pages, under /community/."""

from django.urls import path

from .views import forums, moderation

app_name = "community"

urlpatterns = [
    path("", forums.forum_index, name="index"),
    path("search/", forums.search, name="search"),
    path("notifications/", forums.notifications, name="notifications"),
    path("c/<slug:slug>/", forums.category_detail, name="category"),
    path("c/<slug:slug>/new/", forums.topic_new, name="topic-new"),
    path("t/<int:pk>/", forums.topic_detail, name="topic"),
    path("t/<int:pk>/reply/", forums.topic_reply, name="topic-reply"),
    path("t/<int:pk>/moderate/", forums.topic_moderate, name="topic-moderate"),
    path("t/<int:pk>/follow/", forums.topic_subscription, name="topic-follow"),
    path("p/<int:pk>/edit/", forums.post_edit, name="post-edit"),
    path("p/<int:pk>/history/", forums.post_history, name="post-history"),
    path("p/<int:pk>/<slug:action>/", forums.post_action, name="post-action"),
    path("moderation/", moderation.moderation_queue, name="moderation-queue"),
    path("moderation/log/", moderation.moderation_log, name="moderation-log"),
    path("moderation/bans/", moderation.bans, name="bans"),
    path("moderation/bans/<int:pk>/lift/", moderation.ban_lift, name="ban-lift"),
]
