"""The whole path with real parts: the API commits, a real Celery worker process on Redis
scores with the real engine, and a risky conversation enters the queue."""

from __future__ import annotations

import json
import subprocess

import pytest
from rest_framework.test import APIClient

from review.models import Assessment, Conversation, QueueItem, Tenant
from scoring.models import ModelVersion
from tests.conftest import api_client_for, wait_for
from tests.scoring_support import grooming_conversation, ingest_payload

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]


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
