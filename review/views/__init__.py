from __future__ import annotations

from review.views.admin import (
    admin_home,
    admin_invitation_revoke,
    admin_invite,
    admin_key_revoke,
    admin_keys,
    admin_member_remove,
    admin_member_role,
    admin_members,
    admin_policy,
    admin_policy_rollback,
)
from review.views.agreement import agreement
from review.views.audit_trail import audit_trail
from review.views.cases import (
    case_approve,
    case_close,
    case_deliver,
    case_extend,
    case_inbox,
    case_list,
    case_page,
    case_send_back,
    case_submit,
)
from review.views.home import home
from review.views.inbox import disagreement_uphold, inbox, supervisor_decide, supervisor_review
from review.views.invitations import invitation_accept, invitation_decline, invitations
from review.views.models import (
    model_labels_export,
    model_train,
    model_train_status,
    model_version_promote,
    model_versions,
)
from review.views.ncmec import case_ncmec
from review.views.preferences import toggle_calm
from review.views.queue import queue
from review.views.referral import case_package
from review.views.second_review import (
    second_review_next,
    second_review_page,
    second_review_record,
    second_review_release,
    second_review_renew,
    second_reviews,
)
from review.views.supervision import decision_log
from review.views.tuning import admin_tuning, admin_tuning_apply
from review.views.work import decide, release, renew, reveal, review, take_next

__all__ = [
    "admin_home",
    "admin_invitation_revoke",
    "admin_invite",
    "admin_key_revoke",
    "admin_keys",
    "admin_member_remove",
    "admin_member_role",
    "admin_members",
    "admin_policy",
    "admin_policy_rollback",
    "admin_tuning",
    "admin_tuning_apply",
    "agreement",
    "audit_trail",
    "case_approve",
    "case_close",
    "case_deliver",
    "case_extend",
    "case_inbox",
    "case_list",
    "case_ncmec",
    "case_package",
    "case_page",
    "case_send_back",
    "case_submit",
    "decide",
    "decision_log",
    "disagreement_uphold",
    "home",
    "inbox",
    "invitation_accept",
    "invitation_decline",
    "invitations",
    "model_labels_export",
    "model_train",
    "model_train_status",
    "model_version_promote",
    "model_versions",
    "queue",
    "release",
    "renew",
    "reveal",
    "review",
    "second_review_next",
    "second_review_page",
    "second_review_record",
    "second_review_release",
    "second_review_renew",
    "second_reviews",
    "supervisor_decide",
    "supervisor_review",
    "take_next",
    "toggle_calm",
]
