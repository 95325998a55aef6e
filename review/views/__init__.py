from __future__ import annotations

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
from review.views.models import model_labels_export, model_version_promote, model_versions
from review.views.ncmec import case_ncmec
from review.views.preferences import toggle_calm
from review.views.queue import queue
from review.views.supervision import decision_log
from review.views.work import decide, release, renew, reveal, review, take_next

__all__ = [
    "case_approve",
    "case_close",
    "case_deliver",
    "case_extend",
    "case_inbox",
    "case_list",
    "case_ncmec",
    "case_page",
    "case_send_back",
    "case_submit",
    "decide",
    "decision_log",
    "home",
    "model_labels_export",
    "model_version_promote",
    "model_versions",
    "queue",
    "release",
    "renew",
    "reveal",
    "review",
    "take_next",
    "toggle_calm",
]
