from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from review import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login", auth_views.LoginView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password",
        auth_views.PasswordChangeView.as_view(success_url="/password/done"),
        name="password_change",
    ),
    path(
        "password/done",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("preferences/calm", views.toggle_calm, name="toggle_calm"),
    path("t/<slug:tenant_slug>/queue", views.queue, name="queue"),
    path("t/<slug:tenant_slug>/next", views.take_next, name="next"),
    path("t/<slug:tenant_slug>/items/<int:item_id>", views.review, name="review"),
    path("t/<slug:tenant_slug>/items/<int:item_id>/decide", views.decide, name="decide"),
    path("t/<slug:tenant_slug>/items/<int:item_id>/release", views.release, name="release"),
    path("t/<slug:tenant_slug>/items/<int:item_id>/renew", views.renew, name="renew"),
    path(
        "t/<slug:tenant_slug>/items/<int:item_id>/messages/<int:message_id>/reveal",
        views.reveal,
        name="reveal",
    ),
    path("t/<slug:tenant_slug>/decisions", views.decision_log, name="decision_log"),
    path("t/<slug:tenant_slug>/admin/", views.admin_home, name="admin_home"),
    path("t/<slug:tenant_slug>/admin/members", views.admin_members, name="admin_members"),
    path(
        "t/<slug:tenant_slug>/admin/members/<int:membership_id>/role",
        views.admin_member_role,
        name="admin_member_role",
    ),
    path(
        "t/<slug:tenant_slug>/admin/members/<int:membership_id>/remove",
        views.admin_member_remove,
        name="admin_member_remove",
    ),
    path("t/<slug:tenant_slug>/admin/keys", views.admin_keys, name="admin_keys"),
    path(
        "t/<slug:tenant_slug>/admin/keys/<int:key_id>/revoke",
        views.admin_key_revoke,
        name="admin_key_revoke",
    ),
    path("t/<slug:tenant_slug>/admin/policy", views.admin_policy, name="admin_policy"),
    path(
        "t/<slug:tenant_slug>/admin/policy/rollback",
        views.admin_policy_rollback,
        name="admin_policy_rollback",
    ),
    path("t/<slug:tenant_slug>/admin/tuning", views.admin_tuning, name="admin_tuning"),
    path(
        "t/<slug:tenant_slug>/admin/tuning/apply",
        views.admin_tuning_apply,
        name="admin_tuning_apply",
    ),
]
