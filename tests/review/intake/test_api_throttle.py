"""Guessing API keys: past ARTEMIS_API_KEY_FAILURES_PER_MINUTE wrong keys from one address,
the API answers 429 with Retry-After (in the API's error shape); a valid key is never slowed,
other addresses are not affected, a forged X-Forwarded-For does not dodge it, and the count
is shared by every process (Django's cache, a database table here)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from review.models import Tenant
from tests.conftest import ROOT, api_client_for, database_url

pytestmark = pytest.mark.django_db

Payload = Callable[..., dict[str, Any]]
MALLORY = "203.0.113.66"


def with_random_key(ip: str = MALLORY, **headers: str) -> Any:
    client = APIClient(REMOTE_ADDR=ip)
    key = "art_" + secrets.token_urlsafe(32)
    return client.get(
        "/api/v1/conversations/chat-42", HTTP_AUTHORIZATION=f"Bearer {key}", **headers
    )


def test_three_hundred_random_keys_get_429_with_retry_after(acme: Tenant) -> None:
    answers = [with_random_key() for _ in range(300)]

    limit = settings.ARTEMIS_API_KEY_FAILURES_PER_MINUTE
    statuses = [a.status_code for a in answers]
    assert statuses[:limit] == [401] * limit
    assert set(statuses[limit:]) == {429}
    last = answers[-1]
    assert 1 <= int(last["Retry-After"]) <= 60
    assert last.json()["error"] == "throttled"
    assert "too many failed API-key attempts" in last.json()["detail"]


def test_a_valid_key_still_works_from_a_throttled_address(
    acme: Tenant, conversation_payload: Payload
) -> None:
    for _ in range(settings.ARTEMIS_API_KEY_FAILURES_PER_MINUTE + 5):
        with_random_key()
    assert with_random_key().status_code == 429
    platform = api_client_for(acme)
    platform.defaults["REMOTE_ADDR"] = MALLORY

    created = platform.post(
        "/api/v1/conversations", json.dumps(conversation_payload()), content_type="application/json"
    )
    read = platform.get("/api/v1/conversations/conv-1")

    assert created.status_code == 201
    assert read.status_code == 200


def test_another_address_is_not_throttled(acme: Tenant) -> None:
    for _ in range(settings.ARTEMIS_API_KEY_FAILURES_PER_MINUTE + 5):
        with_random_key()

    assert with_random_key(ip="198.51.100.20").status_code == 401


def test_a_forged_forwarded_for_header_does_not_dodge_the_throttle(acme: Tenant) -> None:
    answers = [
        with_random_key(HTTP_X_FORWARDED_FOR=f"192.0.2.{n % 250}").status_code for n in range(60)
    ]

    assert answers[-1] == 429


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_one_process_throttle_another(acme: Tenant) -> None:
    """Another web process (a gunicorn worker, say) makes the failures; this one sees them."""
    ip = "198.51.100.99"
    script = (
        "import django; django.setup()\n"
        "from django.test.utils import setup_test_environment; setup_test_environment()\n"
        "from rest_framework.test import APIClient\n"
        f"c = APIClient(REMOTE_ADDR={ip!r})\n"
        "codes = {c.get('/api/v1/conversations/x', HTTP_AUTHORIZATION='Bearer art_wrong')"
        f".status_code for _ in range({settings.ARTEMIS_API_KEY_FAILURES_PER_MINUTE})}}\n"
        "print(sorted(codes))\n"
    )
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    try:
        other = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert other.returncode == 0, other.stderr[-2000:]
        assert other.stdout.strip() == "[401]", "the other process was not throttled itself"

        assert with_random_key(ip=ip).status_code == 429
    finally:
        cache.clear()  # the cache table outlives a transactional test's flush
