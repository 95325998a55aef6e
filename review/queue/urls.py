"""The queue page.

Mounted under ``t/<tenant>/`` with the namespace ``queue``.
"""

from __future__ import annotations

from django.urls import path

from review.queue import views

app_name = "queue"

urlpatterns = [
    path("queue", views.queue, name="queue"),
]
