"""Shared fixtures and named actors.

Tests that need PostgreSQL, Redis or Chromium are skipped where those are missing, unless
ARTEMIS_REQUIRE_SERVICES=1 (CI sets it), when a missing service fails the run instead of
quietly skipping what it was meant to prove.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from review.models import Tenant
from review.services.tenants import api_key_create
from tests.factories import TenantFactory

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
