"""The appeals queue and the appeal page. Mounted under ``t/<tenant>/`` with the namespace
``appeals``."""

from __future__ import annotations

from django.urls import path

from review.appeals import views

app_name = "appeals"

urlpatterns = [
    path("appeals", views.appeals, name="appeals"),
    path("appeals/next", views.take_next, name="next"),
    path("appeals/<int:appeal_id>", views.appeal_page, name="appeal"),
    path("appeals/<int:appeal_id>/decide", views.decide, name="decide"),
    path("appeals/<int:appeal_id>/release", views.release, name="release"),
    path("appeals/<int:appeal_id>/renew", views.renew, name="renew"),
]
