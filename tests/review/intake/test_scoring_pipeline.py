"""Scoring rows with the real engine: assessments, the queue, idempotency, incremental
rescoring, interruption and retries."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from review import tasks
from review.intake import scoring as scoring_service
from review.intake.api.inputs import ConversationInput
from review.intake.scoring import (
    conversation_score,
    conversations_score,
    conversations_sweep_unscored,
)
from review.intake.services import conversations_upsert, messages_append
from review.models import Assessment, Conversation, ConversationStatus, Message, QueueItem, Tenant
from review.policy.services import policy_change
from review.tenancy.services import tenant_lock_policy
from scoring.engine import Engine
from tests.conftest import wait_for
from tests.scoring_support import benign_conversation, grooming_conversation, ingest_payload
from tests.threads import Threads

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests call the service directly; the broker path has its own end-to-end test.
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)


def ingest(tenant: Tenant, payload: dict[str, Any]) -> Conversation:
    serializer = ConversationInput(data=payload)
    serializer.is_valid(raise_exception=True)
    [result] = conversations_upsert(tenant=tenant, records=[serializer.validated_data])
    return result.conversation


def test_a_grooming_conversation_is_assessed_and_enters_the_queue(
    acme: Tenant, active_model: Any
) -> None:
    conversation = ingest(acme, ingest_payload(grooming_conversation()))

    assessment = conversation_score(conversation_id=conversation.pk)

    assert assessment is not None
    assert assessment.model_version == active_model.version
    assert assessment.probability >= acme.flag_threshold
    assert assessment.highlights, "a flagged conversation shows the moderator why"
    assert assessment.factors
    item = QueueItem.objects.get(conversation=conversation)
    assert item.assessment == assessment
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.FLAGGED
    assert conversation.score_requested_at is None


def test_a_benign_conversation_is_assessed_and_stays_out_of_the_queue(
    acme: Tenant, active_model: Any
) -> None:
    conversation = ingest(acme, ingest_payload(benign_conversation()))

    assessment = conversation_score(conversation_id=conversation.pk)

    assert assessment is not None
    assert assessment.probability < acme.flag_threshold
    assert not QueueItem.objects.filter(conversation=conversation).exists()
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.SCORED


def test_the_tenant_threshold_decides_who_enters_the_queue(acme: Tenant, active_model: Any) -> None:
    acme.flag_threshold = 0.0
    acme.save()
    conversation = ingest(acme, ingest_payload(benign_conversation()))

    conversation_score(conversation_id=conversation.pk)

    assert QueueItem.objects.filter(conversation=conversation).exists()


def test_scoring_unchanged_content_again_writes_nothing(acme: Tenant, active_model: Any) -> None:
    conversation = ingest(acme, ingest_payload(grooming_conversation()))
    conversation_score(conversation_id=conversation.pk)

    assert conversation_score(conversation_id=conversation.pk) is None
    assert Assessment.objects.filter(conversation=conversation).count() == 1
    assert QueueItem.objects.filter(conversation=conversation).count() == 1


def test_new_messages_are_scored_without_scoring_the_old_ones_again(
    acme: Tenant, active_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = grooming_conversation(min_messages=20)
    conversation = ingest(acme, ingest_payload(source, upto=15))
    conversation_score(conversation_id=conversation.pk)
    before = {m.external_id: m.score for m in Message.objects.filter(conversation=conversation)}

    scored_texts: list[str] = []
    original = Engine.score_messages
    # Patched on the class: undoing a patch on an instance leaves a bound method in its
    # __dict__, which would change the pickled artifact of the shared engine.
    monkeypatch.setattr(
        Engine,
        "score_messages",
        lambda self, texts: scored_texts.extend(texts) or original(self, texts),
    )
    appended = ingest_payload(source)["messages"][15:20]
    serializer = ConversationInput(data={**ingest_payload(source), "messages": appended})
    serializer.is_valid(raise_exception=True)
    messages_append(
        tenant=acme,
        external_id=conversation.external_id,
        messages=serializer.validated_data["messages"],
    )

    second = conversation_score(conversation_id=conversation.pk)

    assert second is not None
    assert second.message_count == 20
    assert scored_texts == [m["text"] for m in appended]
    after = {m.external_id: m.score for m in Message.objects.filter(conversation=conversation)}
    assert all(after[k] == v for k, v in before.items())
    assert Assessment.objects.filter(conversation=conversation).count() == 2


def greeting(n: int) -> dict[str, Any]:
    """Conversation ``hi-n``: one message, "hi n", between the README's Mia (13) and Jay,
    whose account was created a month before. Every greeting is between the same two ids."""
    return {
        "external_id": f"hi-{n}",
        "platform": "example-chat",
        "participants": [
            {"external_id": "u-1", "display_name": "Mia", "declared_age": 13},
            {
                "external_id": "u-2",
                "display_name": "Jay",
                "account_created_at": "2026-10-01T09:00:00Z",
            },
        ],
        "messages": [
            {
                "external_id": "m-1",
                "sender": "u-2",
                "sent_at": "2026-11-01T18:00:00+01:00",
                "text": f"hi {n}",
            }
        ],
    }


def post_and_score(api: APIClient, tenant: Tenant, payload: dict[str, Any]) -> Assessment:
    """POST the conversation as a platform would, then score it as the worker does."""
    response = api.post("/api/v1/conversations", payload, format="json")
    assert response.status_code == 201, response.json()
    conversation = Conversation.objects.get(tenant=tenant, external_id=payload["external_id"])
    assessment = conversation_score(conversation_id=conversation.pk)
    assert assessment is not None
    return assessment


def test_a_conversation_is_scored_on_its_own_messages_only(
    acme: Tenant, acme_api: APIClient, globex: Tenant, globex_api: APIClient, active_model: Any
) -> None:
    # Acme's two participants first have nine greetings, each scored (its message score cached,
    # its assessment stored), before hi-10 arrives; at Globex hi-10 is their first.
    earlier = [post_and_score(acme_api, acme, greeting(n)) for n in range(1, 10)]
    after_history = post_and_score(acme_api, acme, greeting(10))
    without_history = post_and_score(globex_api, globex, greeting(10))

    assert after_history.message_count == without_history.message_count == 1
    assert after_history.probability == without_history.probability
    assert after_history.characteristic_scores == without_history.characteristic_scores
    assert after_history.factors == without_history.factors
    # And each earlier greeting scored as it would alone, the first one included.
    for n, assessment in enumerate(earlier, start=1):
        assert assessment.probability == post_and_score(globex_api, globex, greeting(n)).probability


def test_a_lone_greeting_from_a_new_account_stays_out_of_the_queue(
    acme: Tenant, acme_api: APIClient, active_model: Any
) -> None:
    assessment = post_and_score(acme_api, acme, greeting(1))

    assert assessment.probability < 0.1
    assert not QueueItem.objects.filter(conversation=assessment.conversation).exists()


def test_a_task_interrupted_mid_way_leaves_the_conversation_to_be_scored_again(
    acme: Tenant,
    active_model: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = ingest(acme, ingest_payload(grooming_conversation()))

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("worker lost half-way through writing")

    monkeypatch.setattr(scoring_service, "queue_items_offer", crash)
    with pytest.raises(RuntimeError):
        conversation_score(conversation_id=conversation.pk)

    conversation.refresh_from_db()
    assert conversation.score_requested_at is not None, "the debt is still recorded"
    assert not Assessment.objects.filter(conversation=conversation).exists()
    assert not Message.objects.filter(conversation=conversation, score__isnull=False).exists()

    monkeypatch.undo()
    sent: list[list[int]] = []
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: sent.append(ids))
    Conversation.objects.filter(pk=conversation.pk).update(
        score_enqueued_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert conversations_sweep_unscored() == 1
    assert sent == [[conversation.pk]]

    tasks.score_conversations.apply(args=[sent[0]]).get()
    assert Assessment.objects.filter(conversation=conversation).count() == 1
    assert QueueItem.objects.filter(conversation=conversation).exists()


def test_messages_arriving_while_scoring_runs_get_a_score_of_their_own(
    acme: Tenant, active_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = grooming_conversation(min_messages=20)
    conversation = ingest(acme, ingest_payload(source, upto=10))
    original = Engine.score_conversation

    def score_while_a_message_arrives(self: Engine, *args: Any, **kwargs: Any) -> Any:
        Conversation.objects.filter(pk=conversation.pk).update(score_requested_at=timezone.now())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "score_conversation", score_while_a_message_arrives)
    conversation_score(conversation_id=conversation.pk)

    conversation.refresh_from_db()
    assert conversation.score_requested_at is not None


def test_a_transient_database_error_is_retried_until_it_succeeds(
    acme: Tenant, active_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = ingest(acme, ingest_payload(grooming_conversation()))
    calls: list[list[int]] = []

    def flaky(*, conversation_ids: list[int]) -> Any:
        calls.append(conversation_ids)
        if len(calls) < 3:
            raise OperationalError("connection reset")
        return conversations_score(conversation_ids=conversation_ids)

    monkeypatch.setattr(tasks, "conversations_score", flaky)
    tasks.score_conversations.apply(args=[[conversation.pk]]).get()

    assert len(calls) == 3
    assert Assessment.objects.filter(conversation=conversation).count() == 1


def test_one_failing_conversation_does_not_hold_back_the_rest_of_its_chunk(
    acme: Tenant, active_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(acme, ingest_payload(grooming_conversation()))
    second = ingest(acme, ingest_payload(benign_conversation()))
    opening = Message.objects.filter(conversation=first).first().text
    original = Engine.score_conversation

    def broken_for_first(
        self: Engine, participants: Any, messages: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if messages[0].text == opening:
            raise ValueError("a bug")
        return original(self, participants, messages, *args, **kwargs)

    monkeypatch.setattr(Engine, "score_conversation", broken_for_first)
    result = tasks.score_conversations.apply(args=[[first.pk, second.pk]])

    assert result.failed()
    assert isinstance(result.result, tasks.ScoringFailed)
    assert f"[{first.pk}]" in str(result.result), "names the failed one only"
    assert Assessment.objects.filter(conversation=second).exists()
    assert not Assessment.objects.filter(conversation=first).exists()
    first.refresh_from_db()
    assert first.score_requested_at is not None
    second.refresh_from_db()
    assert second.score_requested_at is None


def test_a_deleted_conversation_is_skipped(active_model: Any) -> None:
    assert conversation_score(conversation_id=987654) is None


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_scoring_that_meets_a_threshold_change_in_flight_uses_the_new_threshold(
    acme: Tenant, ada: Any, active_model: Any
) -> None:
    conversation = ingest(acme, ingest_payload(benign_conversation()))
    changed, commit, scored = threading.Event(), threading.Event(), threading.Event()

    def admin_lowers_the_threshold() -> None:
        with transaction.atomic():
            policy_change(
                tenant=acme, actor=ada, reason="see everything", changes={"flag_threshold": 0}
            )
            changed.set()
            commit.wait(timeout=30)

    def worker_scores() -> None:
        conversation_score(conversation_id=conversation.pk)
        scored.set()

    threads = Threads()
    threads.start(admin_lowers_the_threshold)
    assert changed.wait(timeout=30)
    threads.start(worker_scores)
    # The scoring waits for the change it would otherwise miss...
    wait_for(lambda: waiting_on_a_lock() == 1, seconds=120)
    assert not scored.is_set()
    commit.set()
    threads.join()

    assert threads.errors == []
    assert scored.is_set()
    # ...then decides with the new threshold: the old one (0.5) kept this chat out.
    assessment = Assessment.objects.get(conversation=conversation)
    assert assessment.probability < 0.5
    assert QueueItem.objects.filter(conversation=conversation, assessment=assessment).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scorings_of_one_tenant_hold_its_policy_together(acme: Tenant) -> None:
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with transaction.atomic():
            tenant_lock_policy(tenant_id=acme.pk)
            holding.set()
            release.wait(timeout=30)

    threads = Threads()
    threads.start(first)
    assert holding.wait(timeout=30)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            assert tenant_lock_policy(tenant_id=acme.pk).pk == acme.pk  # does not wait
    finally:
        release.set()
        threads.join()
    assert threads.errors == []
