"""Settings come from the environment, fail loudly on bad values, and are secure by default."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from artemis.env import envbool, envhosts, envint

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A production process: none of the development or test switches of this one.
    dropped = ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "artemis.settings", **env},
        capture_output=True,
        text=True,
    )


def test_production_settings_pass_the_deployment_checklist() -> None:
    result = manage("check", "--deploy", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_a_secret_key_production_refuses_to_start() -> None:
    result = manage("check", DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_a_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="DEBUG must be one of"):
        envbool("DEBUG", False)


def test_a_bad_integer_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTEMIS_SWEEP_SECONDS", "soon")

    with pytest.raises(ImproperlyConfigured, match="ARTEMIS_SWEEP_SECONDS must be an integer"):
        envint("ARTEMIS_SWEEP_SECONDS", 60)


def test_trusted_outbound_hosts_are_read_as_host_or_host_and_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARTEMIS_OUTBOUND_TRUSTED_HOSTS", " 127.0.0.1:8089, Relay.internal,[::1]:9")

    assert envhosts("ARTEMIS_OUTBOUND_TRUSTED_HOSTS") == [
        "127.0.0.1:8089",
        "relay.internal",
        "[::1]:9",
    ]


@pytest.mark.parametrize("entry", ["http://127.0.0.1:8089", "127.0.0.1:8089/hooks", "::1"])
def test_a_trusted_outbound_host_written_as_a_url_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv("ARTEMIS_OUTBOUND_TRUSTED_HOSTS", entry)

    with pytest.raises(ImproperlyConfigured, match="takes host or host:port entries"):
        envhosts("ARTEMIS_OUTBOUND_TRUSTED_HOSTS")
