"""The benchmarks' shared helpers: a benchmark never measures a server it did not start."""

from __future__ import annotations

import socket

import pytest

from bench.support import free_port


def test_a_benchmark_takes_any_free_port_by_default() -> None:
    port = free_port()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))  # it really was free


def test_a_taken_port_is_named_and_refused() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {taken} is taken"):
            free_port(taken)
