"""Coalescing: at most one scoring task waits per conversation, however many posts add to it
while it waits; a worker's claim (as it starts) makes later content owe a task of its own."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from review import tasks
from review.intake import scoring as scoring_service
from review.intake.api.inputs import ConversationInput
from review.intake.scoring import conversation_score, conversations_sweep_unscored
from review.intake.services import conversations_upsert
from review.models import Assessment, Conversation, Tenant
from scoring.engine import Engine
from tests.conftest import wait_for
from tests.scoring_support import grooming_conversation, ingest_payload
from tests.threads import Threads

pytestmark = pytest.mark.django_db

SOURCE = grooming_conversation(min_messages=20)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The scoring tasks handed to the broker (the real broker path has its end-to-end test)."""
    calls: list[list[int]] = []
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: calls.append(ids))
    return calls


def post_messages(tenant: Tenant, upto: int, capture: Any) -> Conversation:
    """The platform posts the conversation's first ``upto`` messages; its transaction commits
    and the tasks it owes go to the broker."""
    serializer = ConversationInput(data=ingest_payload(SOURCE, upto=upto))
    serializer.is_valid(raise_exception=True)
    with capture(execute=True):
        [result] = conversations_upsert(tenant=tenant, records=[serializer.validated_data])
    return result.conversation


def run_task(ids: list[int]) -> None:
    tasks.score_conversations.apply(args=[ids]).get()


def test_posts_made_while_the_task_waits_are_covered_by_it_and_send_no_other(
    acme: Tenant,
    active_model: Any,
    sent: list[list[int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = post_messages(acme, 5, django_capture_on_commit_callbacks)
    for upto in (6, 7, 8):
        post_messages(acme, upto, django_capture_on_commit_callbacks)

    assert sent == [[conversation.pk]], "one task waits for the whole backlog"
    run_task(sent[0])

    assessment = Assessment.objects.get(conversation=conversation)
    assert assessment.message_count == 8, "the waiting task read what arrived before it started"
    conversation.refresh_from_db()
    assert conversation.score_requested_at is None
    assert conversation.score_enqueued_at is None


def test_a_message_arriving_after_the_workers_claim_owes_a_task_of_its_own(
    acme: Tenant,
    active_model: Any,
    sent: list[list[int]],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = post_messages(acme, 10, django_capture_on_commit_callbacks)
    original = Engine.score_conversation

    def score_while_a_message_arrives(self: Engine, *args: Any, **kwargs: Any) -> Any:
        post_messages(acme, 11, django_capture_on_commit_callbacks)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "score_conversation", score_while_a_message_arrives)
    run_task(sent[0])
    monkeypatch.undo()

    assert sent == [[conversation.pk], [conversation.pk]]
    conversation.refresh_from_db()
    assert conversation.score_requested_at is not None, "the eleventh message is still owed"
    assert Assessment.objects.get(conversation=conversation).message_count == 10

    run_task(sent[1])
    latest = Assessment.objects.filter(conversation=conversation).latest("scored_at", "pk")
    assert latest.message_count == 11
    conversation.refresh_from_db()
    assert conversation.score_requested_at is None


def test_after_a_task_has_run_the_next_post_sends_a_new_one(
    acme: Tenant,
    active_model: Any,
    sent: list[list[int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = post_messages(acme, 5, django_capture_on_commit_callbacks)
    run_task(sent[0])

    post_messages(acme, 6, django_capture_on_commit_callbacks)

    assert sent == [[conversation.pk], [conversation.pk]]


def test_a_claimed_request_left_unanswered_is_resent_by_the_sweep_only_after_the_wait(
    acme: Tenant,
    active_model: Any,
    sent: list[list[int]],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = post_messages(acme, 10, django_capture_on_commit_callbacks)

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("worker lost half-way through writing")

    monkeypatch.setattr(scoring_service, "queue_items_offer", crash)
    with pytest.raises(RuntimeError):
        conversation_score(conversation_id=conversation.pk)
    monkeypatch.undo()
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: sent.append(ids))
    sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert conversations_sweep_unscored() == 0, "just claimed: the worker may still answer"
    Conversation.objects.filter(pk=conversation.pk).update(
        score_claimed_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert conversations_sweep_unscored() == 1
    assert sent == [[conversation.pk]]

    run_task(sent[0])
    assert Assessment.objects.filter(conversation=conversation).count() == 1


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_that_meets_a_post_in_flight_waits_for_it_and_reads_its_message(
    acme: Tenant, active_model: Any, sent: list[list[int]]
) -> None:
    """The post has marked the conversation owed and seen a task waiting (so sent none); the
    worker's claim must not slip in between, or that message would be owed no task."""
    serializer = ConversationInput(data=ingest_payload(SOURCE, upto=10))
    serializer.is_valid(raise_exception=True)
    [first] = conversations_upsert(tenant=acme, records=[serializer.validated_data])
    conversation = first.conversation
    assert sent == [[conversation.pk]]
    posted, commit = threading.Event(), threading.Event()

    def platform_posts_the_eleventh_message() -> None:
        more = ConversationInput(data=ingest_payload(SOURCE, upto=11))
        more.is_valid(raise_exception=True)
        with transaction.atomic():
            conversations_upsert(tenant=acme, records=[more.validated_data])
            posted.set()
            commit.wait(timeout=30)

    def worker_runs_the_waiting_task() -> None:
        run_task(sent[0])

    threads = Threads()
    threads.start(platform_posts_the_eleventh_message)
    assert posted.wait(timeout=30)
    threads.start(worker_runs_the_waiting_task)
    wait_for(lambda: waiting_on_a_lock() == 1, seconds=120)
    commit.set()
    threads.join()

    assert threads.errors == []
    assert sent == [[conversation.pk]], "the post saw a task waiting and sent no other"
    assert Assessment.objects.get(conversation=conversation).message_count == 11
    conversation.refresh_from_db()
    assert conversation.score_requested_at is None
