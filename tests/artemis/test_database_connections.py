"""A database connection killed under a running server costs no request.

Gunicorn workers keep their PostgreSQL connection between requests (CONN_MAX_AGE). When
PostgreSQL drops it (a failover, a restart, an operator's pg_terminate_backend), the worker's
next request used to answer 500 before Django noticed and reconnected. With
CONN_HEALTH_CHECKS, Django checks a kept connection before a request uses it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from review.models import Tenant
from review.tenancy.services import api_key_create
from tests.conftest import database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
APP_NAME = "artemis-conn-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[str]:
    """One real gunicorn worker, in production mode, on this test's database; its connections
    carry an application_name so the test can find them in pg_stat_activity."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"{database_url()}?application_name={APP_NAME}",
        "DEBUG": "0",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "artemis.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/schema", timeout=2).read()  # noqa: S310
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=30)


def _status(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _kill_server_backends() -> int:
    """From this test's own connection, terminate every backend the server opened."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            [APP_NAME],
        )
        return cursor.fetchone()[0]


def test_the_settings_keep_connections_and_check_them_before_use() -> None:
    database = settings.DATABASES["default"]
    assert database["CONN_MAX_AGE"] > 0, "without kept connections there is nothing to check"
    assert database["CONN_HEALTH_CHECKS"] is True


def test_a_server_whose_database_connections_were_killed_answers_its_next_requests(
    gunicorn: str,
) -> None:
    tenant = Tenant.objects.create(name="Acme Chat", slug="acme")
    _, key = api_key_create(tenant=tenant, name="platform")
    url = f"{gunicorn}/api/v1/conversations/none"
    assert _status(url, key) == 404  # served: the key was found, the conversation was not

    assert _kill_server_backends() >= 1, "the worker kept its connection open between requests"

    assert [_status(url, key) for _ in range(3)] == [404, 404, 404]
