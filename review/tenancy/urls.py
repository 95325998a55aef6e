"""The tenant's admin pages: members, invitations, API keys.

Mounted under ``t/<tenant>/`` with the namespace ``tenancy``.
"""

from __future__ import annotations

from django.urls import path

from review.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("admin/", views.admin_home, name="admin_home"),
    path("admin/members", views.admin_members, name="admin_members"),
    path(
        "admin/members/<int:membership_id>/role",
        views.admin_member_role,
        name="admin_member_role",
    ),
    path(
        "admin/members/<int:membership_id>/remove",
        views.admin_member_remove,
        name="admin_member_remove",
    ),
    path("admin/invitations", views.admin_invite, name="admin_invite"),
    path(
        "admin/invitations/<int:invitation_id>/revoke",
        views.admin_invitation_revoke,
        name="admin_invitation_revoke",
    ),
    path("admin/keys", views.admin_keys, name="admin_keys"),
    path(
        "admin/keys/<int:key_id>/revoke",
        views.admin_key_revoke,
        name="admin_key_revoke",
    ),
]
