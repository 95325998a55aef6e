from __future__ import annotations

from django.urls import path, re_path

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
]
