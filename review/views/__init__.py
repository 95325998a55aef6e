from __future__ import annotations

from review.views.home import home
from review.views.models import model_labels_export, model_version_promote, model_versions
from review.views.preferences import toggle_calm
from review.views.queue import queue
from review.views.supervision import decision_log
from review.views.work import decide, release, renew, reveal, review, take_next

__all__ = [
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
