"""A participant's declared facts that scoring reads (declared age, account date) changed on a
re-post with no new message owe the conversation a score, so that what a moderator is shown
of them (the assessment's factors) is not left as it was; a decided conversation is not
scored again for it, and a re-post that changes nothing owes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from review import tasks
from review.intake.scoring import conversation_score
from review.models import Assessment, Conversation, ConversationStatus, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)


def owed(conversation: Conversation) -> bool:
    conversation.refresh_from_db()
    return conversation.score_requested_at is not None


def sent(client: APIClient, url: str, body: dict[str, Any]) -> int:
    return client.post(url, body, format="json").status_code


def test_a_declared_age_given_later_is_scored_and_shown_and_an_unchanged_repost_owes_nothing(
    acme: Tenant, acme_api: APIClient, conversation_payload: Any, active_model: Any
) -> None:
    assert sent(acme_api, "/api/v1/conversations", conversation_payload()) == 201
    conversation = Conversation.objects.get(tenant=acme, external_id="conv-1")
    first = conversation_score(conversation_id=conversation.pk)
    assert first is not None
    assert not any("Declared ages" in f for f in first.factors)
    assert not owed(conversation)

    assert sent(acme_api, "/api/v1/conversations", conversation_payload()) == 200
    assert not owed(conversation), "the same payload again changes nothing"

    later = conversation_payload()
    later["participants"][1]["declared_age"] = 41  # the platform learns the stranger's age
    assert sent(acme_api, "/api/v1/conversations", later) == 200
    assert owed(conversation)
    again = conversation_score(conversation_id=conversation.pk)

    assert again is not None
    assert "Declared ages 13 and 41" in again.factors
    assert again.probability == first.probability, "metadata is shown, never scored"
    assert Assessment.objects.filter(conversation=conversation).count() == 2


def test_a_decided_conversation_is_not_scored_again_for_a_changed_age(
    acme: Tenant, acme_api: APIClient, conversation_payload: Any
) -> None:
    assert sent(acme_api, "/api/v1/conversations", conversation_payload()) == 201
    conversation = Conversation.objects.get(tenant=acme, external_id="conv-1")
    Conversation.objects.filter(pk=conversation.pk).update(
        status=ConversationStatus.REVIEWED, score_requested_at=None, score_enqueued_at=None
    )
    later = conversation_payload()
    later["participants"][1]["declared_age"] = 41

    assert sent(acme_api, "/api/v1/conversations", later) == 200
    assert not owed(conversation)


def test_the_same_persons_other_open_conversations_are_owed_a_score_by_a_worker(
    acme: Tenant,
    acme_api: APIClient,
    conversation_payload: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A declared age learnt in one conversation changes what the others of the same person
    show: their open ones are owed a score (by a worker, after the request commits), not a
    decided one, and not another tenant's person of the same id."""
    sent_calls: list[list[int]] = []
    monkeypatch.setattr(tasks.request_scores, "delay", lambda ids: sent_calls.append(ids))
    for external_id in ("conv-1", "conv-2", "conv-3"):
        body = conversation_payload()
        body["external_id"] = external_id
        assert sent(acme_api, "/api/v1/conversations", body) == 201
    first, second, decided = (
        Conversation.objects.get(tenant=acme, external_id=e) for e in ("conv-1", "conv-2", "conv-3")
    )
    Conversation.objects.filter(pk__in=[first.pk, second.pk, decided.pk]).update(
        score_requested_at=None, score_enqueued_at=None
    )
    Conversation.objects.filter(pk=decided.pk).update(status=ConversationStatus.REVIEWED)

    later = conversation_payload()
    later["participants"][1]["declared_age"] = 41
    with django_capture_on_commit_callbacks(execute=True):
        assert sent(acme_api, "/api/v1/conversations", later) == 200

    assert sent_calls == [[second.pk]]
    assert not owed(second), "owed by the worker, not by the request"
    assert tasks.request_scores.apply(args=[sent_calls[0]]).get() == 1
    assert owed(second)
    assert not owed(decided)


def test_a_conversation_decided_before_the_worker_runs_is_not_owed_a_score(
    acme: Tenant, acme_api: APIClient, conversation_payload: Any
) -> None:
    assert sent(acme_api, "/api/v1/conversations", conversation_payload()) == 201
    conversation = Conversation.objects.get(tenant=acme, external_id="conv-1")
    Conversation.objects.filter(pk=conversation.pk).update(
        status=ConversationStatus.REVIEWED, score_requested_at=None, score_enqueued_at=None
    )

    assert tasks.request_scores.apply(args=[[conversation.pk]]).get() == 0
    assert not owed(conversation)
