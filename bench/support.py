"""What the benchmarks share: a database of their own, and Django set up on it in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_database(name: str) -> str:
    """Drop and re-create the benchmark's database, ``name`` on the local server unless
    BENCH_DATABASE_URL names another; returns its URL."""
    import psycopg

    url = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{name}")
    admin, _, db_name = url.rpartition("/")
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    return url


def django_on(url: str, **environ: str) -> None:
    """Migrate the database at ``url`` and set Django up on it in this process, with the
    production settings and ``environ`` added to the environment."""
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY="bench-only",  # noqa: S106 (a throwaway benchmark database)
        DJANGO_SETTINGS_MODULE="artemis.settings",
        **environ,
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ
    )
    import django

    django.setup()


def free_port(requested: int = 0) -> int:
    """A loopback port for a benchmark's server: ``requested`` if it is free, else any free
    one when ``requested`` is 0. A taken port is named and refused rather than reached: a
    benchmark must never measure another server (the local CyberTipline's 8765, say)."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", requested))
        except OSError:
            raise SystemExit(
                f"port {requested} is taken on 127.0.0.1; pass --port 0 (any free port) or "
                "another port"
            ) from None
        return probe.getsockname()[1]
