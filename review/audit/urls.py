"""The audit trail.

Mounted under ``t/<tenant>/`` with the namespace ``audit``.
"""

from __future__ import annotations

from django.urls import path

from review.audit import views

app_name = "audit"

urlpatterns = [
    path("supervision/audit", views.audit_trail, name="audit_trail"),
]
