"""The search page and the participant page.

Mounted under ``t/<tenant>/`` with the namespace ``search``.
"""

from __future__ import annotations

from django.urls import path

from review.search import views

app_name = "search"

urlpatterns = [
    path("search", views.search, name="search"),
    path("participants/<int:participant_id>", views.participant, name="participant"),
]
