"""Test code run in parallel threads, as concurrent requests or workers would run it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


class Threads:
    """Start functions in threads, each with its own database connection (closed when it
    ends); an exception in any thread is kept in ``errors`` for the test to assert on, not
    lost in the thread."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def start(self, target: Callable[..., Any], *args: Any) -> None:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:  # surfaced by the test through .errors
                self.errors.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        self._threads.append(thread)

    def join(self, timeout: float = 120) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout)
