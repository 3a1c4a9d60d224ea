"""Community pages, under /community/."""

from django.urls import path

from .views import forums, ideas, moderation, reviews, staff

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
    # Co-creation: the ideas board (customers and staff)
    path("ideas/", ideas.idea_list, name="idea-list"),
    path("ideas/new/", ideas.idea_create, name="idea-create"),
    path("ideas/<int:pk>/", ideas.idea_detail, name="idea-detail"),
    path("ideas/<int:pk>/vote/", ideas.idea_vote, name="idea-vote"),
    path("ideas/<int:pk>/comment/", ideas.idea_comment, name="idea-comment"),
    path("ideas/<int:pk>/status/", ideas.idea_status, name="idea-status"),
    path("ideas/<int:pk>/moderate/", ideas.idea_moderate, name="idea-moderate"),
    path("idea-comments/<int:pk>/moderate/", ideas.comment_moderate, name="idea-comment-moderate"),
    # Co-creation: product reviews
    path("reviews/", reviews.review_list, name="review-list"),
    path("reviews/new/", reviews.review_create, name="review-create"),
    path("reviews/<int:pk>/moderate/", reviews.review_moderate, name="review-moderate"),
    # Staff: triage, moderation queue, who is active
    path("staff/ideas/", staff.idea_triage, name="idea-triage"),
    path("staff/reviews/", reviews.review_queue, name="review-queue"),
    path("staff/active/", staff.community_active, name="community-active"),
]
