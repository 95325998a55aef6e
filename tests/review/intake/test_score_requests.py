"""Ingest owes a score and sends the task only once the transaction has committed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from review import tasks
from review.intake.scoring import conversations_sweep_unscored
from review.models import Conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Record what would go to the broker. The real broker path is covered end to end in
    test_worker_end_to_end.py; here only the timing (after commit, never on rollback) matters."""
    calls: list[list[int]] = []
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: calls.append(ids))
    return calls


def post(client: APIClient, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_the_scoring_task_is_sent_only_after_the_ingest_commits(
    acme_api: APIClient,
    conversation_payload: Callable[..., dict[str, Any]],
    sent: list[list[int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(acme_api, "/api/v1/conversations", conversation_payload())
        assert sent == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [[Conversation.objects.get().pk]]


def test_a_refused_request_sends_no_task(
    acme_api: APIClient,
    conversation_payload: Callable[..., dict[str, Any]],
    sent: list[list[int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    payload = conversation_payload()
    payload["messages"][2]["sender"] = "u-ghost"  # found only after rows were written

    with django_capture_on_commit_callbacks(execute=True):
        response = post(acme_api, "/api/v1/conversations", payload)

    assert response.status_code == 400
    assert sent == []


def test_an_unchanged_payload_owes_no_new_score(
    acme_api: APIClient,
    conversation_payload: Callable[..., dict[str, Any]],
    sent: list[list[int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post(acme_api, "/api/v1/conversations", conversation_payload())
    with django_capture_on_commit_callbacks(execute=True):
        post(acme_api, "/api/v1/conversations", conversation_payload())

    assert len(sent) == 1


def test_a_large_batch_is_sent_in_chunks_that_several_workers_can_share(
    acme_api: APIClient,
    conversation_payload: Callable[..., dict[str, Any]],
    sent: list[list[int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = [conversation_payload(f"c-{i}") for i in range(60)]
    with django_capture_on_commit_callbacks(execute=True):
        post(acme_api, "/api/v1/conversations/batch", {"conversations": batch})

    assert [len(ids) for ids in sent] == [25, 25, 10]


def test_the_sweep_resends_only_requests_left_unanswered(
    acme_api: APIClient,
    conversation_payload: Callable[..., dict[str, Any]],
    sent: list[list[int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post(acme_api, "/api/v1/conversations", conversation_payload("fresh"))
        post(acme_api, "/api/v1/conversations", conversation_payload("stale"))
    sent.clear()
    long_ago = timezone.now() - timedelta(hours=1)
    Conversation.objects.filter(external_id="stale").update(
        score_requested_at=long_ago, score_enqueued_at=long_ago
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert conversations_sweep_unscored() == 1
    assert sent == [[Conversation.objects.get(external_id="stale").pk]]
    # Just re-sent: the next sweep leaves it alone until the wait has passed again.
    assert conversations_sweep_unscored() == 0
