from __future__ import annotations

from review.views.home import home
from review.views.preferences import toggle_calm
from review.views.queue import queue
from review.views.referral import case_package
from review.views.supervision import decision_log
from review.views.work import decide, release, renew, reveal, review, take_next

__all__ = [
    "case_package",
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
