"""Serve the Prometheus metrics on their own port, off the console's public surface."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from prometheus_client import start_http_server

from review.operations.metrics import registry


class Command(BaseCommand):
    help = (
        "Serve /metrics (Prometheus text format) on ADDRESS:PORT, by default 127.0.0.1:9108. "
        "With PROMETHEUS_MULTIPROC_DIR set, it adds up the counters of every process on this "
        "machine that writes there."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--address", default=os.environ.get("ARTEMIS_METRICS_ADDRESS", "127.0.0.1")
        )
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("ARTEMIS_METRICS_PORT", "9108"))
        )

    def handle(self, *args: Any, address: str, port: int, **options: Any) -> None:
        try:
            server, _ = start_http_server(port, addr=address, registry=registry())
        except OSError as exc:
            raise CommandError(
                f"cannot serve metrics on {address}:{port}: {exc.strerror}"
            ) from None
        self.stdout.write(f"metrics on http://{address}:{server.server_port}/metrics")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        server.shutdown()
