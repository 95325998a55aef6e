"""Policy versions, threshold tuning and model versions.

Mounted under ``t/<tenant>/`` with the namespace ``policy``.
"""

from __future__ import annotations

from django.urls import path

from review.policy import views

app_name = "policy"

urlpatterns = [
    path("admin/models", views.model_versions, name="model_versions"),
    path(
        "admin/models/<int:version_id>/promote",
        views.model_version_promote,
        name="model_version_promote",
    ),
    path(
        "admin/models/labels.jsonl",
        views.model_labels_export,
        name="model_labels_export",
    ),
    path("admin/models/train", views.model_train, name="model_train"),
    path(
        "admin/models/train/status",
        views.model_train_status,
        name="model_train_status",
    ),
    path("admin/policy", views.admin_policy, name="admin_policy"),
    path(
        "admin/policy/rollback",
        views.admin_policy_rollback,
        name="admin_policy_rollback",
    ),
    path("admin/tuning", views.admin_tuning, name="admin_tuning"),
    path(
        "admin/tuning/apply",
        views.admin_tuning_apply,
        name="admin_tuning_apply",
    ),
]
