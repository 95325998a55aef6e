"""A Redis broker of the test's own, on its own port, that a test can stop and start again
(a broker outage), and pointing this process's Celery app at it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from artemis.celery import app


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port``, keeping nothing on disk: a stop loses what
    it held, as a broker that crashed would."""

    def __init__(self, *, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        assert not self._answers(), f"something already listens on port {self.port}"
        self.process = subprocess.Popen(
            [
                binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self._answers():
            assert self.process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None
        assert not self._answers()

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.ConnectionError:
            return False


@contextmanager
def publishing_to(url: str) -> Iterator[None]:
    """Make this process send its tasks to ``url`` (as the web process of a deployment on
    that broker would), then back to the configured broker."""
    previous = app.conf.get("broker_write_url")
    _drop_connections()
    app.conf.broker_write_url = url
    try:
        yield
    finally:
        _drop_connections()
        app.conf.broker_write_url = previous


def _drop_connections() -> None:
    # Celery keeps its connection and producer pools for the broker it first used. Dropped,
    # not closed: kombu shares the pools of one broker address between their users.
    app._pool = None
    app.amqp._producer_pool = None
