"""An appeal's ``made_at`` from the future is refused: beyond ``LATEST_AHEAD`` like any
timestamp the ingestion API takes, and beyond five minutes of clock difference because an
appeal cannot be made after it reached Artemis. Each is a 400 naming ``made_at`` in the API's
error shape, and no appeal is recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from review.intake.api.inputs import LATEST_AHEAD
from review.models import Appeal, Tenant
from tests.review.appeals.test_appeal_api import body
from tests.review.supervision_support import decide

pytestmark = pytest.mark.django_db


def test_made_at_beyond_the_ingest_tolerance_answers_400_naming_it(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)
    ahead = (timezone.now() + LATEST_AHEAD + LATEST_AHEAD).isoformat()

    response = acme_api.post("/api/v1/appeals", body(ban.pk, made_at=ahead), format="json")

    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "invalid"
    assert list(answer["fields"]) == ["made_at"]
    assert not Appeal.objects.exists()


def test_made_at_after_the_appeal_reached_us_answers_400_naming_it(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    # Within the ingest tolerance, but an appeal cannot be made after it is received.
    ban = decide(acme, alice)
    ahead = (timezone.now() + timedelta(minutes=20)).isoformat()

    response = acme_api.post("/api/v1/appeals", body(ban.pk, made_at=ahead), format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "made_at": ["is after the appeal reached Artemis; a user makes an appeal before it is sent"]
    }
    assert not Appeal.objects.exists()


def test_made_at_a_minute_ahead_is_a_clock_difference_and_accepted(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)
    ahead = (timezone.now() + timedelta(minutes=1)).isoformat()

    response = acme_api.post("/api/v1/appeals", body(ban.pk, made_at=ahead), format="json")

    assert response.status_code == 201
