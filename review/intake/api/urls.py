"""The REST API's URLs, under /api/v1/: ingestion (review/intake/api/) and appeals
(review/appeals/api.py)."""

from __future__ import annotations

from django.urls import path, re_path

from review.appeals import api as appeals
from review.intake.api import views

urlpatterns = [
    path("conversations", views.ConversationUpsertApi.as_view(), name="api-conversation-upsert"),
    path(
        "conversations/batch",
        views.ConversationBatchUpsertApi.as_view(),
        name="api-conversation-batch",
    ),
    re_path(
        r"^conversations/(?P<external_id>[^/]+)/messages$",
        views.ConversationMessagesAppendApi.as_view(),
        name="api-conversation-messages",
    ),
    re_path(
        r"^conversations/(?P<external_id>[^/]+)$",
        views.ConversationDetailApi.as_view(),
        name="api-conversation-detail",
    ),
    # Appeals (review/appeals/api.py): the user's appeal, its outcome, statements of reasons.
    path("appeals", appeals.AppealCreateApi.as_view(), name="api-appeal-create"),
    re_path(
        r"^appeals/(?P<appeal_id>[^/]+)$",
        appeals.AppealDetailApi.as_view(),
        name="api-appeal-detail",
    ),
    # [^/]+ as the other ids: a decision id that is not a number answers 404 in the API's shape.
    re_path(
        r"^decisions/(?P<decision_id>[^/]+)/statement$",
        appeals.DecisionStatementApi.as_view(),
        name="api-decision-statement",
    ),
]
