"""The rescore benchmark runs on PostgreSQL at a tiny size and prints its figures: a
rescore's cost and the part of it that was the process's own CPU time, an ingested
update's, and the engine's own +1 rescore."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench_support import bench_environ

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


def test_the_rescore_benchmark_prints_its_figures(tmp_path: Path) -> None:
    env = bench_environ(tmp_path, "rescore_smoke")

    run = subprocess.run(
        [sys.executable, "bench/rescore.py", "--conversations", "12", "--steps", "14",
         "--measure", "4", "--chunk", "5"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-3000:]
    assert "model: reusing" in run.stdout
    rescores = re.search(
        r"rescore \(read, engine, write\).*: ([0-9.]+) ms .*\(([0-9,]+) resc", run.stdout
    )
    assert rescores is not None, run.stdout
    assert float(rescores[1]) > 0
    assert int(rescores[2].replace(",", "")) > 0
    cpu = re.search(r"of which this process's CPU time\s+: ([0-9.]+) ms", run.stdout)
    assert cpu is not None, run.stdout
    assert 0 < float(cpu[1]) <= float(rescores[1]) * 1.05, "CPU time is part of the wall time"
    assert re.search(r"ingest of one conversation update\s+: [0-9.]+ ms", run.stdout)
    assert re.search(r"engine alone, \+1 rescore from its state: [0-9.]+ ms", run.stdout)


def test_a_measure_longer_than_the_run_is_refused() -> None:
    run = subprocess.run(
        [sys.executable, "bench/rescore.py", "--steps", "5", "--measure", "9"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--measure must be between 1 and --steps" in run.stderr
