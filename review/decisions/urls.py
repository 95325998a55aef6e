"""Taking and deciding items, second reviews, the supervisor's inbox and agreement.

Mounted under ``t/<tenant>/`` with the namespace ``decisions``.
"""

from __future__ import annotations

from django.urls import path

from review.decisions import views

app_name = "decisions"

urlpatterns = [
    path("next", views.take_next, name="next"),
    path("items/<int:item_id>", views.review, name="review"),
    path("items/<int:item_id>/decide", views.decide, name="decide"),
    path("items/<int:item_id>/release", views.release, name="release"),
    path("items/<int:item_id>/renew", views.renew, name="renew"),
    path(
        "items/<int:item_id>/messages/<int:message_id>/reveal",
        views.reveal,
        name="reveal",
    ),
    path("decisions", views.decision_log, name="decision_log"),
    # Blind second reviews (any member but the first decider) and the supervisors' pages.
    path("second-reviews", views.second_reviews, name="second_reviews"),
    path(
        "second-reviews/next",
        views.second_review_next,
        name="second_review_next",
    ),
    path(
        "second-reviews/<int:review_id>",
        views.second_review_page,
        name="second_review",
    ),
    path(
        "second-reviews/<int:review_id>/record",
        views.second_review_record,
        name="second_review_record",
    ),
    path(
        "second-reviews/<int:review_id>/release",
        views.second_review_release,
        name="second_review_release",
    ),
    path(
        "second-reviews/<int:review_id>/renew",
        views.second_review_renew,
        name="second_review_renew",
    ),
    path("supervision/inbox", views.inbox, name="inbox"),
    path(
        "supervision/conversations/<int:conversation_id>",
        views.supervisor_review,
        name="supervisor_review",
    ),
    path(
        "supervision/conversations/<int:conversation_id>/decide",
        views.supervisor_decide,
        name="supervisor_decide",
    ),
    path(
        "supervision/second-reviews/<int:review_id>/uphold",
        views.disagreement_uphold,
        name="disagreement_uphold",
    ),
    path("supervision/agreement", views.agreement, name="agreement"),
]
