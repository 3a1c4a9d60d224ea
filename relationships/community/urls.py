"""Community pages, under /community/."""

from django.urls import path

from .views import ideas, reviews, staff

app_name = "community"

urlpatterns: list = [
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
