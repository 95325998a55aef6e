"""The pipeline benchmark runs end to end at a tiny rate: its own gunicorn, two Celery workers
on Redis and PostgreSQL, and prints its figures (issue 14)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench_support import bench_environ

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]


def test_the_pipeline_benchmark_prints_latency_and_lag_at_a_tiny_rate(
    redis_broker: str, tmp_path: Path
) -> None:
    env = bench_environ(tmp_path, "pipeline_smoke", BENCH_BROKER_URL=redis_broker)

    run = subprocess.run(
        [sys.executable, "bench/pipeline.py", "--rates", "8", "--duration", "4", "--drain", "30"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-3000:]
    assert "model: reusing" in run.stdout
    # The rate's row: 8 msg/s asked, a sending rate, then latencies and a scoring lag that
    # is a figure (every POST scored within the drain), none never scored.
    row = re.search(
        r"^\| 8 \| \d+ \| (?:[0-9.]+|-) / (?:[0-9.]+|-) / (?:[0-9.]+|-) \| \d+ \| "
        r"([0-9.]+) / ([0-9.]+) \| 0 of (\d+) \|",
        run.stdout,
        re.MULTILINE,
    )
    assert row is not None, run.stdout
    assert int(row[3]) > 0
    assert float(row[1]) <= float(row[2])
    assert "highest sustained rate with p95 < 2 s:" in run.stdout
    assert "target p95 < 2 s at 2,000 messages/s with two workers:" in run.stdout
