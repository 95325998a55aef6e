from __future__ import annotations

from review.views.admin import (
    admin_home,
    admin_key_revoke,
    admin_keys,
    admin_member_remove,
    admin_member_role,
    admin_members,
    admin_policy,
    admin_policy_rollback,
)
from review.views.home import home
from review.views.preferences import toggle_calm
from review.views.queue import queue
from review.views.supervision import decision_log
from review.views.tuning import admin_tuning, admin_tuning_apply
from review.views.work import decide, release, renew, reveal, review, take_next

__all__ = [
    "admin_home",
    "admin_key_revoke",
    "admin_keys",
    "admin_member_remove",
    "admin_member_role",
    "admin_members",
    "admin_policy",
    "admin_policy_rollback",
    "admin_tuning",
    "admin_tuning_apply",
    "decide",
    "decision_log",
    "home",
    "queue",
    "release",
    "renew",
    "reveal",
    "review",
    "take_next",
    "toggle_calm",
]
