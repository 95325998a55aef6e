"""`make run` (scripts/run.sh) and the README agree: every variable the script reads is
documented with its default, every module it starts exists, and no curl example in the README
is tied to one port."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN = (ROOT / "scripts" / "run.sh").read_text()
README = (ROOT / "README.md").read_text()


def test_every_variable_make_run_reads_is_in_the_readme_table_with_its_default() -> None:
    read = re.findall(r'^(?:export )?(\w+)="\$\{\1:-([^}]*)\}"', RUN, flags=re.MULTILINE)
    assert {name for name, _ in read} >= {"HOST", "PORT", "NCMEC_PORT"}
    rows = [line for line in README.splitlines() if line.startswith("| `")]
    undocumented = [
        f"{name} (default {default})"
        for name, default in read
        if not any(f"`{name}`" in row and f"`{default}`" in row for row in rows)
    ]
    assert not undocumented, f"add to the README's table of environment variables: {undocumented}"


def test_every_module_make_run_starts_exists() -> None:
    modules = re.findall(r"\$PY -m ([\w.]+)", RUN)
    assert "review.cases.ncmec.localserver" in modules
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    assert not missing, f"scripts/run.sh starts modules that do not exist: {missing}"


def test_the_readme_curl_examples_use_the_address_make_run_serves_not_a_fixed_port() -> None:
    curls = [line for line in README.splitlines() if line.startswith("curl ")]
    assert curls, "the API quick start has curl examples"
    fixed = [line for line in curls if re.search(r"https?://[^\s/]+:\d+", line)]
    assert not fixed, f"use $ARTEMIS (set from PORT) instead of a fixed port: {fixed}"
    assert "ARTEMIS=http://127.0.0.1:${PORT:-8000}" in README


def test_make_run_refuses_to_serve_other_machines_with_debug_on() -> None:
    # Before anything is installed or started: the check is the script's first step.
    for host, debug in (("10.0.0.5", "1"), ("192.168.1.20", "true")):
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "run.sh")],
            env={**os.environ, "HOST": host, "DEBUG": debug, "PORT": "1"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 2, (host, done.stderr)
        assert f"HOST={host} with DEBUG={debug} refused" in done.stderr
