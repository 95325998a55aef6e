from __future__ import annotations

from review.views.home import home
from review.views.queue import queue

__all__ = ["home", "queue"]
