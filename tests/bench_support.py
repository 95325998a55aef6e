"""What the benchmark tests share: the environment a benchmark runs in as a subprocess."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from bench.pipeline import model_cache
from tests.scoring_support import trained_default


def bench_environ(tmp_path: Path, database: str, **extra: str) -> dict[str, str]:
    """The environment for a benchmark subprocess: its own database beside the test one
    (the test database's name + ``database``), ``tmp_path`` as its var folder with the
    session's trained model already where the benchmark keeps it (so it does not train
    again), and the production settings."""
    cache = model_cache(tmp_path)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(pickle.dumps(trained_default()))
    server, _, name = os.environ["DATABASE_URL"].rpartition("/")
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": f"{server}/{name}_{database}",
        "ARTEMIS_VAR_DIR": str(tmp_path),
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # a benchmark runs the production settings
    return env
