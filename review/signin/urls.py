"""Admin > Sign-in: locked-out accounts and two-factor resets.

Mounted under ``t/<tenant>/`` with the namespace ``signin``.
"""

from __future__ import annotations

from django.urls import path

from review.signin import views

app_name = "signin"

urlpatterns = [
    path("admin/sign-in", views.admin_signin, name="admin_signin"),
    path(
        "admin/sign-in/two-factor",
        views.admin_signin_two_factor,
        name="admin_signin_two_factor",
    ),
    path(
        "admin/sign-in/<int:membership_id>/unlock",
        views.admin_signin_unlock,
        name="admin_signin_unlock",
    ),
    path(
        "admin/sign-in/<int:membership_id>/reset-two-factor",
        views.admin_signin_reset,
        name="admin_signin_reset",
    ),
]
