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
    # A signed-in person's invitations to join tenants (review/views/invitations.py).
    path("invitations", views.invitations, name="invitations"),
    path(
        "invitations/<int:invitation_id>/accept",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline",
        views.invitation_decline,
        name="invitation_decline",
    ),
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
    # Escalation cases (review/views/cases.py).
    path("t/<slug:tenant_slug>/cases", views.case_list, name="cases"),
    path("t/<slug:tenant_slug>/cases/inbox", views.case_inbox, name="case_inbox"),
    path("t/<slug:tenant_slug>/cases/<int:case_id>", views.case_page, name="case"),
    path("t/<slug:tenant_slug>/cases/<int:case_id>/submit", views.case_submit, name="case_submit"),
    path(
        "t/<slug:tenant_slug>/cases/<int:case_id>/approve", views.case_approve, name="case_approve"
    ),
    path(
        "t/<slug:tenant_slug>/cases/<int:case_id>/send-back",
        views.case_send_back,
        name="case_send_back",
    ),
    path(
        "t/<slug:tenant_slug>/cases/<int:case_id>/deliver", views.case_deliver, name="case_deliver"
    ),
    path("t/<slug:tenant_slug>/cases/<int:case_id>/extend", views.case_extend, name="case_extend"),
    path("t/<slug:tenant_slug>/cases/<int:case_id>/close", views.case_close, name="case_close"),
    path("t/<slug:tenant_slug>/cases/<int:case_id>/ncmec", views.case_ncmec, name="case_ncmec"),
    path("t/<slug:tenant_slug>/admin/models", views.model_versions, name="model_versions"),
    path(
        "t/<slug:tenant_slug>/admin/models/<int:version_id>/promote",
        views.model_version_promote,
        name="model_version_promote",
    ),
    path(
        "t/<slug:tenant_slug>/admin/models/labels.jsonl",
        views.model_labels_export,
        name="model_labels_export",
    ),
    path("t/<slug:tenant_slug>/admin/models/train", views.model_train, name="model_train"),
    path(
        "t/<slug:tenant_slug>/admin/models/train/status",
        views.model_train_status,
        name="model_train_status",
    ),
    # Blind second reviews (any member but the first decider) and the supervisors' pages.
    path("t/<slug:tenant_slug>/second-reviews", views.second_reviews, name="second_reviews"),
    path(
        "t/<slug:tenant_slug>/second-reviews/next",
        views.second_review_next,
        name="second_review_next",
    ),
    path(
        "t/<slug:tenant_slug>/second-reviews/<int:review_id>",
        views.second_review_page,
        name="second_review",
    ),
    path(
        "t/<slug:tenant_slug>/second-reviews/<int:review_id>/record",
        views.second_review_record,
        name="second_review_record",
    ),
    path(
        "t/<slug:tenant_slug>/second-reviews/<int:review_id>/release",
        views.second_review_release,
        name="second_review_release",
    ),
    path(
        "t/<slug:tenant_slug>/second-reviews/<int:review_id>/renew",
        views.second_review_renew,
        name="second_review_renew",
    ),
    path("t/<slug:tenant_slug>/supervision/inbox", views.inbox, name="inbox"),
    path(
        "t/<slug:tenant_slug>/supervision/conversations/<int:conversation_id>",
        views.supervisor_review,
        name="supervisor_review",
    ),
    path(
        "t/<slug:tenant_slug>/supervision/conversations/<int:conversation_id>/decide",
        views.supervisor_decide,
        name="supervisor_decide",
    ),
    path(
        "t/<slug:tenant_slug>/supervision/second-reviews/<int:review_id>/uphold",
        views.disagreement_uphold,
        name="disagreement_uphold",
    ),
    path("t/<slug:tenant_slug>/supervision/agreement", views.agreement, name="agreement"),
    path("t/<slug:tenant_slug>/supervision/audit", views.audit_trail, name="audit_trail"),
    path(
        "t/<slug:tenant_slug>/cases/<int:case_id>/package",
        views.case_package,
        name="case_package",
    ),
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
    path("t/<slug:tenant_slug>/admin/invitations", views.admin_invite, name="admin_invite"),
    path(
        "t/<slug:tenant_slug>/admin/invitations/<int:invitation_id>/revoke",
        views.admin_invitation_revoke,
        name="admin_invitation_revoke",
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
