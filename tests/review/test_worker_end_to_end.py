"""The whole path with real parts: the API commits, a real Celery worker process on Redis
scores with the real engine, and a risky conversation enters the queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from review.models import Assessment, Conversation, QueueItem, Tenant
from scoring.models import ModelVersion
from tests.conftest import api_client_for, skip_or_fail
from tests.scoring_support import grooming_conversation, ingest_payload

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


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
def worker(redis_broker: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker process, pointed at this test's database and the Redis broker."""
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_broker,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "artemis", "worker",
                "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    yield process
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate: Any, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"condition not met within {seconds}s")


def test_a_posted_grooming_conversation_is_scored_by_a_real_worker_and_queued(
    acme: Tenant, active_model: ModelVersion, worker: subprocess.Popen[bytes]
) -> None:
    client: APIClient = api_client_for(acme)
    payload = ingest_payload(grooming_conversation())

    response = client.post(
        "/api/v1/conversations", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    conversation = Conversation.objects.get(tenant=acme, external_id=payload["external_id"])

    wait_for(lambda: Assessment.objects.filter(conversation=conversation).exists())
    assessment = Assessment.objects.get(conversation=conversation)
    assert assessment.model_version == active_model.version
    assert assessment.probability >= acme.flag_threshold
    item = QueueItem.objects.get(conversation=conversation)
    assert item.assessment == assessment
    wait_for(lambda: Conversation.objects.get(pk=conversation.pk).score_requested_at is None)

    detail = client.get(f"/api/v1/conversations/{payload['external_id']}").json()
    assert detail["status"] == "flagged"
    assert detail["latest_assessment"]["probability"] == pytest.approx(assessment.probability)
