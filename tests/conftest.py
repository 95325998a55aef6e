"""Shared fixtures and named actors.

Tests that need PostgreSQL, Redis or Chromium are skipped where those are missing, unless
ARTEMIS_REQUIRE_SERVICES=1 (CI sets it), when a missing service fails the run instead of
quietly skipping what it was meant to prove.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from review.models import Role, Tenant
from review.tenancy.services import api_key_create
from tests.factories import MembershipFactory, TenantFactory

REQUIRE_SERVICES = os.environ.get("ARTEMIS_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (ARTEMIS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _require_postgres(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def acme(db: None) -> Tenant:
    """Acme Chat, the tenant most tests act for."""
    return TenantFactory(name="Acme Chat", slug="acme")


@pytest.fixture
def globex(db: None) -> Tenant:
    """Globex, a second tenant whose data Acme must never see."""
    return TenantFactory(name="Globex", slug="globex")


@pytest.fixture
def alice(acme: Tenant) -> Any:
    """Alice the moderator."""
    return MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user


@pytest.fixture
def bob(acme: Tenant) -> Any:
    """Bob, another moderator (second reviews, the second claimer)."""
    return MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="bob").user


@pytest.fixture
def sam(acme: Tenant) -> Any:
    """Sam the supervisor."""
    return MembershipFactory(tenant=acme, role=Role.SUPERVISOR, user__username="sam").user


@pytest.fixture
def ada(acme: Tenant) -> Any:
    """Ada the admin."""
    return MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada").user


@pytest.fixture
def audrey(acme: Tenant) -> Any:
    """Audrey the auditor: reads decisions, cases and the audit trail; changes nothing."""
    return MembershipFactory(tenant=acme, role=Role.AUDITOR, user__username="audrey").user


def api_client_for(tenant: Tenant) -> APIClient:
    _, raw = api_key_create(tenant=tenant, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def acme_api(acme: Tenant) -> APIClient:
    return api_client_for(acme)


@pytest.fixture
def globex_api(globex: Tenant) -> APIClient:
    return api_client_for(globex)


@pytest.fixture
def conversation_payload() -> Callable[..., dict[str, Any]]:
    """A small valid conversation: Mia (13) and a stranger, three plain messages."""

    def make(external_id: str = "conv-1", **overrides: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "external_id": external_id,
            "platform": "acme-chat",
            "participants": [
                {"external_id": "u-mia", "display_name": "Mia", "declared_age": 13},
                {
                    "external_id": "u-stranger",
                    "display_name": "Jay",
                    "account_created_at": "2026-10-01T09:00:00+00:00",
                },
            ],
            "messages": [
                {
                    "external_id": "m-1",
                    "sender": "u-stranger",
                    "sent_at": "2026-11-01T18:00:00+01:00",
                    "text": "hey how was school",
                },
                {
                    "external_id": "m-2",
                    "sender": "u-mia",
                    "sent_at": "2026-11-01T18:01:30+01:00",
                    "text": "boring lol",
                },
                {
                    "external_id": "m-3",
                    "sender": "u-stranger",
                    "sent_at": "2026-11-01T18:02:00+01:00",
                    "text": "same here, what are you up to",
                },
            ],
        }
        payload.update(overrides)
        return payload

    return make


@pytest.fixture
def active_model(db: None) -> Any:
    """The real default engine, trained once per session, registered as the active model."""
    from scoring.services import model_version_register
    from tests.scoring_support import trained_default

    result = trained_default()
    return model_version_register(
        engine=result.engine,
        metrics=result.metrics,
        data_fingerprint=result.data_fingerprint,
        training_source="seed corpus + generated conversations",
    )


# --- a real Celery worker process on Redis (tests marked celery_worker) ---------------------

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database as a URL, for a process started by the test."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate: Callable[[], Any], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"condition not met within {seconds}s")


@pytest.fixture
def redis_broker() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        skip_or_fail("needs CELERY_BROKER_URL=redis://...")
    import redis

    client = redis.Redis.from_url(url)
    client.ping()
    client.flushdb()  # a test-only database index: drop tasks left by an earlier run
    return url


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker process; a test module overrides this fixture to
    point the worker at what the test started (a local CyberTipline, say)."""
    return {}


def worker_start(
    *, broker: str, log: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """Start a real worker process on this test's database and ``broker`` and wait until it
    is ready (its log, ``log``, says so). ``args`` adds to the command line (``-B``...)."""
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        **(env or {}),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "artemis", "worker",
                "--queues", ",".join(settings.ARTEMIS_TASK_QUEUES),
                "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat", *args,
            ],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def worker_stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def worker(
    redis_broker: str, worker_env: dict[str, str], tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker process, pointed at this test's database and the Redis broker."""
    process = worker_start(broker=redis_broker, log=tmp_path / "worker.log", env=worker_env)
    yield process
    worker_stop(process)
