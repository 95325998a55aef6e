"""Deferred rescores (conversations_score's ``defer``): an update that cannot put its
conversation in front of a moderator has its new messages scored at once and its
conversation rescored later, once for all such updates, to the same result as at once; an
update that can is scored at once, and so is every first score and every open item."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from review import tasks
from review.intake.api.inputs import ConversationInput
from review.intake.scoring import conversation_score, conversations_score
from review.intake.services import conversations_upsert
from review.models import Assessment, Conversation, Message, QueueItem, ScoringState, Tenant
from scoring import services as scoring_services
from scoring.dataset import LabelledConversation
from scoring.engine import Engine
from scoring.models import ModelVersion
from tests.conftest import api_client_for, wait_for
from tests.scoring_support import benign_conversation, ingest_payload, sample_conversations

SOURCE = benign_conversation(min_messages=20)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The deferred rescores handed to the broker (the real broker path: the last test)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)
    monkeypatch.setattr(
        tasks.score_conversations, "apply_async", lambda **kwargs: calls.append(kwargs)
    )
    return calls


def ingest(tenant: Tenant, source: LabelledConversation, upto: int) -> int:
    serializer = ConversationInput(data=ingest_payload(source, upto=upto))
    serializer.is_valid(raise_exception=True)
    [result] = conversations_upsert(tenant=tenant, records=[serializer.validated_data])
    return result.conversation.pk


def evidence(tenant: Tenant, source: LabelledConversation) -> np.ndarray:
    """Per message, the strongest characteristic it scores (what deferral reads)."""
    engine = scoring_services.engine_for_tenant(tenant=tenant)
    return engine.evidence(engine.score_matrix(engine.score_messages(
        [m.text for m in source.messages]
    )))  # fmt: skip


def shown(assessment: Assessment) -> tuple[Any, ...]:
    return (
        assessment.probability,
        assessment.characteristic_scores,
        assessment.highlights,
        assessment.factors,
        assessment.suspect_scores,
        assessment.message_count,
        # Not the content fingerprint: it hashes the senders' row ids, which differ between
        # the tenants.
    )


@pytest.mark.django_db
def test_an_update_that_cannot_queue_is_rescored_later_as_it_would_have_been_at_once(
    acme: Tenant,
    globex: Tenant,
    active_model: ModelVersion,
    sent: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    assert evidence(acme, SOURCE)[:14].max() < acme.flag_threshold  # the premise
    pk = ingest(acme, SOURCE, 10)
    first = conversations_score(conversation_ids=[pk])
    assert set(first.assessments) == {pk}, "a first score is never deferred"

    ingest(acme, SOURCE, 14)
    with django_capture_on_commit_callbacks(execute=True):
        later = conversations_score(conversation_ids=[pk])
    assert later.deferred == {pk}
    assert later.assessments == {}
    assert Assessment.objects.filter(conversation_id=pk).count() == 1
    version = active_model.version
    assert set(Message.objects.filter(conversation_id=pk).values_list("scored_by", flat=True)) == {
        version
    }, "the new messages are scored now"
    state = ScoringState.objects.get(conversation_id=pk)
    assert state.state["count"] == 10  # the conversation score waits
    wait = timedelta(seconds=settings.ARTEMIS_SCORE_DEFER_SECONDS)
    assert timezone.now() < state.deferred_until <= timezone.now() + wait
    conversation = Conversation.objects.get(pk=pk)
    assert conversation.score_requested_at is not None, "still owed: the sweep's safety net"
    assert sent == [
        {
            "args": [[pk]],
            "kwargs": {"defer": False},
            "countdown": settings.ARTEMIS_SCORE_DEFER_SECONDS,
        }
    ]

    # A second update inside the deferral: deferred too, no second task.
    ingest(acme, SOURCE, 15)
    with django_capture_on_commit_callbacks(execute=True):
        assert conversations_score(conversation_ids=[pk]).deferred == {pk}
    assert len(sent) == 1

    # The task due: the rescore, continued from the state, as scoring at once would give.
    deferred = conversations_score(conversation_ids=sent[0]["args"][0], **sent[0]["kwargs"])
    assert set(deferred.assessments) == {pk}
    at_once = conversation_score(conversation_id=ingest(globex, SOURCE, 15))
    assert at_once is not None
    assert shown(deferred.assessments[pk]) == shown(at_once)
    state = ScoringState.objects.get(conversation_id=pk)
    assert state.state["count"] == 15
    assert state.deferred_until is None
    assert Conversation.objects.get(pk=pk).score_requested_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("reaches", [True, False])
def test_an_update_whose_message_reaches_the_threshold_is_scored_at_once(
    acme: Tenant, active_model: ModelVersion, sent: list[dict[str, Any]], reaches: bool
) -> None:
    strongest = evidence(acme, SOURCE)
    # A message that scores higher than every one before it (after the first five).
    k = next(i for i in range(5, len(strongest)) if strongest[i] > strongest[:i].max())
    before, new = float(strongest[:k].max()), float(strongest[k])
    acme.flag_threshold = (before + new) / 2 if reaches else min(1.0, new + 0.01)
    acme.save()
    pk = ingest(acme, SOURCE, k)
    assert set(conversations_score(conversation_ids=[pk]).assessments) == {pk}
    assert not QueueItem.objects.filter(conversation_id=pk).exists()

    ingest(acme, SOURCE, k + 1)
    scored = conversations_score(conversation_ids=[pk])
    if reaches:  # its probability could reach the threshold now: no waiting
        assert scored.deferred == set()
        assert set(scored.assessments) == {pk}
    else:
        assert scored.deferred == {pk}
        stored = ScoringState.objects.get(conversation_id=pk).evidence
        assert stored == pytest.approx(new, abs=1e-4)  # from the message scores, rounded


@pytest.mark.django_db
def test_a_conversation_with_an_open_item_is_rescored_at_once(
    acme: Tenant, active_model: ModelVersion, sent: list[dict[str, Any]]
) -> None:
    acme.flag_threshold = 0.0  # queued at its first score
    acme.save()
    pk = ingest(acme, SOURCE, 10)
    conversations_score(conversation_ids=[pk])
    assert QueueItem.objects.filter(conversation_id=pk).exists()
    acme.flag_threshold = 1.0  # nothing could queue it now, but its item is open
    acme.save()
    ingest(acme, SOURCE, 12)
    scored = conversations_score(conversation_ids=[pk])
    assert scored.deferred == set()
    item = QueueItem.objects.get(conversation_id=pk)
    assert item.assessment_id == scored.assessments[pk].pk  # the moderator sees it now


@pytest.mark.django_db
def test_an_overdue_deferral_is_not_deferred_again(
    acme: Tenant, active_model: ModelVersion, sent: list[dict[str, Any]], settings: Any
) -> None:
    pk = ingest(acme, SOURCE, 10)
    conversations_score(conversation_ids=[pk])
    ingest(acme, SOURCE, 12)
    assert conversations_score(conversation_ids=[pk]).deferred == {pk}
    # The task due is lost (or the workers are far behind): the next update scores it all.
    overdue = timezone.now() - timedelta(seconds=2 * settings.ARTEMIS_SCORE_DEFER_SECONDS + 1)
    ScoringState.objects.filter(conversation_id=pk).update(deferred_until=overdue)
    ingest(acme, SOURCE, 13)
    scored = conversations_score(conversation_ids=[pk])
    assert scored.deferred == set()
    assert scored.assessments[pk].message_count == 13


@pytest.mark.django_db
def test_no_deferral_when_it_is_turned_off(
    acme: Tenant, active_model: ModelVersion, sent: list[dict[str, Any]], settings: Any
) -> None:
    settings.ARTEMIS_SCORE_DEFER_SECONDS = 0
    pk = ingest(acme, SOURCE, 10)
    conversations_score(conversation_ids=[pk])
    ingest(acme, SOURCE, 12)
    scored = conversations_score(conversation_ids=[pk])
    assert scored.deferred == set()
    assert scored.assessments[pk].message_count == 12
    assert sent == []


@pytest.mark.parametrize("source", sample_conversations(12, min_messages=12), ids=str)
def test_no_prefix_scores_above_its_strongest_message(
    source: LabelledConversation, active_model: ModelVersion
) -> None:
    """What deferral rests on: however a conversation is read (whole, or continued from the
    state of a shorter reading), its probability never exceeds the strongest characteristic
    any of its messages scored so far, so a conversation whose messages are all below the
    threshold is below it too."""
    engine: Engine = scoring_services.engine_for_tenant(tenant=None)
    scored = engine.score_messages([m.text for m in source.messages])
    strongest = np.maximum.accumulate(engine.evidence(engine.score_matrix(scored)))
    state = None
    for n in range(1, len(source.messages) + 1):
        whole = engine.score_conversation(source.participants, source.messages[:n], scored[:n])
        assert whole.probability <= strongest[n - 1]
        continued = engine.score_conversation(
            source.participants, source.messages[:n], scored[:n], prior=state
        )
        assert continued.probability == whole.probability
        assert whole.window_state is not None
        assert whole.window_state.evidence == pytest.approx(strongest[n - 1])
        state = continued.window_state


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {"ARTEMIS_SCORE_DEFER_SECONDS": "2"}


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_deferred_rescore_when_it_is_due(
    acme: Tenant, active_model: ModelVersion, worker: subprocess.Popen[bytes]
) -> None:
    client: APIClient = api_client_for(acme)

    def post(upto: int) -> None:
        response = client.post(
            "/api/v1/conversations",
            data=json.dumps(ingest_payload(SOURCE, upto=upto)),
            content_type="application/json",
        )
        assert response.status_code in (200, 201), response.json()

    post(10)
    conversation = Conversation.objects.get(tenant=acme, external_id=SOURCE.external_id)
    wait_for(lambda: Assessment.objects.filter(conversation=conversation).exists())
    wait_for(lambda: Conversation.objects.get(pk=conversation.pk).score_requested_at is None)
    posted = timezone.now()
    post(14)
    # The worker defers it (its new messages scored, the rescore due in 2 s), and the task
    # due then scores all of it, with nothing left owed.
    wait_for(
        lambda: Assessment.objects.filter(conversation=conversation, message_count=14).exists()
    )
    wait_for(lambda: Conversation.objects.get(pk=conversation.pk).score_requested_at is None)
    assert Assessment.objects.filter(conversation=conversation).count() == 2
    later = Assessment.objects.get(conversation=conversation, message_count=14)
    assert later.scored_at - posted >= timedelta(seconds=2)  # the countdown, not at once
    assert ScoringState.objects.get(conversation=conversation).deferred_until is None
