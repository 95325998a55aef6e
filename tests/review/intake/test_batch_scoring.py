"""Scoring a task's chunk together (conversations_score): a fixed number of queries however
big the chunk, the same results as scoring its conversations one by one, and one bad
conversation holding back none of the others."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from review import tasks
from review.intake import scoring as scoring_service
from review.intake.api.inputs import ConversationInput
from review.intake.scoring import conversation_score, conversations_score
from review.intake.services import conversations_upsert
from review.models import Assessment, Conversation, Message, QueueItem, ScoringState, Tenant
from scoring.engine import Engine
from tests.scoring_support import benign_conversation, ingest_payload, sample_conversations

pytestmark = pytest.mark.django_db

# Mixed: some cross the default threshold (0.5) and enter the queue, some do not.
SOURCES = sample_conversations(10, min_messages=12)


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests call the service directly; the broker path has its own end-to-end test.
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)


def ingest(tenant: Tenant, sources: Any, *, upto: int | None = None) -> list[int]:
    """POST the conversations (their first ``upto`` messages); their ids in order."""
    records = []
    for source in sources:
        serializer = ConversationInput(data=ingest_payload(source, upto=upto))
        serializer.is_valid(raise_exception=True)
        records.append(serializer.validated_data)
    return [r.conversation.pk for r in conversations_upsert(tenant=tenant, records=records)]


def queries(**kwargs: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        result = conversations_score(**kwargs)
    return len(captured), result


def test_the_queries_of_a_chunk_do_not_grow_with_its_size(acme: Tenant, active_model: Any) -> None:
    # Every conversation enters the queue at its first score and has its item refreshed at
    # the rescore, so chunks of any size make the same kinds of statement.
    acme.flag_threshold = 0.0
    acme.save()
    conversation_score(conversation_id=ingest(acme, SOURCES[-1:])[0])  # loads the engine
    counts = {}
    for name, sources in (("small", SOURCES[:2]), ("large", SOURCES[2:9])):
        ids = ingest(acme, sources, upto=8)
        counts[f"{name} first"], first = queries(conversation_ids=ids)
        assert len(first.assessments) == len(ids)
        ingest(acme, sources, upto=10)  # two more messages each
        counts[f"{name} rescore"], again = queries(conversation_ids=ids)
        assert len(again.assessments) == len(ids)
        assert QueueItem.objects.filter(conversation_id__in=ids).count() == len(ids)
        Conversation.objects.filter(pk__in=ids).update(score_requested_at=timezone.now())
        counts[f"{name} unchanged"], unchanged = queries(conversation_ids=ids)
        assert unchanged.assessments == {}
        assert not Conversation.objects.filter(pk__in=ids, score_requested_at__isnull=False)

    assert counts["large first"] == counts["small first"], counts
    assert counts["large rescore"] == counts["small rescore"], counts
    assert counts["large unchanged"] == counts["small unchanged"], counts
    # The claim, four reads (conversations, participants, messages, scoring states) and the
    # model lookup; then the tenant lock, the row locks, the re-read, messages, assessments,
    # scoring states, queue read and insert (or update), statuses and the clear; and the
    # savepoints of the claim's and the write's transactions.
    assert max(counts.values()) <= 20, counts


def comparable(tenant: Tenant) -> dict[str, Any]:
    """What scoring wrote for the tenant, by conversation external id, row ids left out."""
    found: dict[str, Any] = {}
    for conversation in Conversation.objects.filter(tenant=tenant):
        found[conversation.external_id] = {
            "status": conversation.status,
            "owed": conversation.score_requested_at is not None,
            "assessments": list(
                Assessment.objects.filter(conversation=conversation)
                .order_by("scored_at", "pk")
                .values(
                    "model_version",
                    "probability",
                    "characteristic_scores",
                    "highlights",
                    "factors",
                    "suspect_scores",
                    "message_count",
                    # Not the content fingerprint: it hashes the senders' row ids, which
                    # differ between the tenants.
                )
            ),
            "messages": list(
                Message.objects.filter(conversation=conversation)
                .order_by("position")
                .values_list("external_id", "score", "scored_by")
            ),
            "queue": list(
                QueueItem.objects.filter(conversation=conversation).values_list(
                    "status", "priority", "probability", "urgent", "characteristics"
                )
            ),
        }
    return found


def test_a_chunk_scores_exactly_as_its_conversations_scored_one_by_one(
    acme: Tenant, globex: Tenant, active_model: Any
) -> None:
    for upto in (7, 10, None):  # first scores, then two rescores with new messages
        for conversation_id in ingest(acme, SOURCES, upto=upto):
            conversation_score(conversation_id=conversation_id)
        scored = conversations_score(conversation_ids=ingest(globex, SOURCES, upto=upto))
        assert scored.failed == {}

    one_by_one, together = comparable(acme), comparable(globex)
    assert together == one_by_one
    assert all(len(c["assessments"]) == 3 for c in together.values())
    assert any(c["queue"] for c in together.values()), "some entered the queue"


def test_a_chunk_spanning_tenants_uses_each_tenants_policy(
    acme: Tenant, globex: Tenant, active_model: Any
) -> None:
    globex.flag_threshold = 0.0
    globex.save()
    source = [benign_conversation()]
    ids = ingest(acme, source) + ingest(globex, source)

    scored = conversations_score(conversation_ids=ids)

    assert set(scored.assessments) == set(ids)
    assert list(QueueItem.objects.values_list("tenant", flat=True)) == [globex.pk]


def test_a_conversation_failing_in_the_engine_holds_back_none_of_its_chunk(
    acme: Tenant, active_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = ingest(acme, SOURCES[:4])
    bad = ids[1]
    opening = Message.objects.filter(conversation_id=bad).first().text
    original = Engine.score_conversation

    def broken_for_one(
        self: Engine, participants: Any, messages: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if messages[0].text == opening:
            raise ValueError("a bug")
        return original(self, participants, messages, *args, **kwargs)

    monkeypatch.setattr(Engine, "score_conversation", broken_for_one)
    scored = conversations_score(conversation_ids=ids)

    assert set(scored.failed) == {bad}
    assert isinstance(scored.failed[bad], ValueError)
    assert set(scored.assessments) == set(ids) - {bad}
    assert not Assessment.objects.filter(conversation_id=bad).exists()
    owed = set(
        Conversation.objects.filter(score_requested_at__isnull=False).values_list("pk", flat=True)
    )
    assert owed == {bad}, "the others' requests are cleared, the bad one's is kept"


def test_a_conversation_failing_in_the_write_holds_back_none_of_its_chunk(
    acme: Tenant, active_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk is written in one transaction; when it fails, each conversation is written on
    its own, so only the one that fails is left owed."""
    ids = ingest(acme, SOURCES[:4])
    bad = ids[2]
    original = scoring_service.queue_items_offer

    def broken_for_one(*, offers: Any) -> Any:
        if any(conversation.pk == bad for conversation, _ in offers):
            raise RuntimeError("a bug")
        return original(offers=offers)

    monkeypatch.setattr(scoring_service, "queue_items_offer", broken_for_one)
    scored = conversations_score(conversation_ids=ids)

    assert set(scored.failed) == {bad}
    assert set(scored.assessments) == set(ids) - {bad}
    assert not Assessment.objects.filter(conversation_id=bad).exists()
    assert not Message.objects.filter(conversation_id=bad, score__isnull=False).exists()
    owed = Conversation.objects.filter(score_requested_at__isnull=False)
    assert list(owed.values_list("pk", flat=True)) == [bad]


def test_a_request_made_while_the_chunk_is_scored_stays_owed_for_that_conversation_only(
    acme: Tenant, active_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = ingest(acme, SOURCES[:3])
    busy = ids[0]
    original = Engine.score_conversation

    def score_while_a_message_arrives(self: Engine, *args: Any, **kwargs: Any) -> Any:
        Conversation.objects.filter(pk=busy).update(score_requested_at=timezone.now())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "score_conversation", score_while_a_message_arrives)
    scored = conversations_score(conversation_ids=ids)

    assert set(scored.assessments) == set(ids)
    owed = Conversation.objects.filter(score_requested_at__isnull=False)
    assert list(owed.values_list("pk", flat=True)) == [busy]


def test_a_deleted_conversation_in_a_chunk_is_skipped(acme: Tenant, active_model: Any) -> None:
    ids = ingest(acme, SOURCES[:2])

    scored = conversations_score(conversation_ids=[*ids, 987654])

    assert set(scored.assessments) == set(ids)
    assert scored.failed == {}


def _written(ids: list[int]) -> list[tuple[Any, ...]]:
    return list(
        Assessment.objects.filter(conversation_id__in=ids)
        .order_by("conversation__external_id", "message_count")
        .values_list(
            "conversation__external_id",
            "probability",
            "characteristic_scores",
            "highlights",
            "factors",
            "suspect_scores",
            "message_count",
        )
    )


def test_a_rescore_continues_from_where_the_last_one_left_off(
    acme: Tenant, globex: Tenant, active_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each scoring keeps the engine's window state; the next one passes it on, so only the
    windows ending at new messages are read, and the assessment is the one a whole reading
    gives (the same conversations sent to another tenant in one go)."""
    ids = ingest(acme, SOURCES[:4], upto=12)
    conversations_score(conversation_ids=ids)
    states = {s.conversation_id: s for s in ScoringState.objects.filter(conversation_id__in=ids)}
    assert set(states) == set(ids)
    assert all(states[i].state["count"] == 12 for i in ids)
    priors: list[Any] = []
    original = Engine.score_conversation

    def spy(self: Engine, *args: Any, prior: Any = None, **kwargs: Any) -> Any:
        priors.append(prior)
        return original(self, *args, prior=prior, **kwargs)

    monkeypatch.setattr(Engine, "score_conversation", spy)
    ingest(acme, SOURCES[:4], upto=20)
    conversations_score(conversation_ids=ids)
    assert [p.count for p in priors] == [12, 12, 12, 12]  # every one continued
    assert all(s.state["count"] == 20 for s in ScoringState.objects.filter(conversation_id__in=ids))

    priors.clear()
    whole = ingest(globex, SOURCES[:4], upto=20)
    conversations_score(conversation_ids=whole)
    assert priors == [None] * 4
    continued = [row for row in _written(ids) if row[-1] == 20]
    assert continued == _written(whole)
    states = ScoringState.objects.filter(conversation_id__in=ids + whole)
    by_tenant = {s.conversation.tenant_id: [] for s in states}
    for s in states.order_by("conversation__external_id"):
        by_tenant[s.conversation.tenant_id].append(s.state)
    assert by_tenant[acme.pk] == by_tenant[globex.pk]  # the same state, however reached


def test_a_state_that_no_longer_fits_is_not_used(acme: Tenant, active_model: Any) -> None:
    [pk] = ingest(acme, SOURCES[:1], upto=12)
    conversation_score(conversation_id=pk)
    state = ScoringState.objects.get(conversation_id=pk)
    # A message the state covered is gone (retention or an erasure): the digest differs.
    Message.objects.filter(conversation_id=pk, position=3).delete()
    ingest(acme, SOURCES[:1], upto=16)
    assert conversation_score(conversation_id=pk) is not None  # read whole, without error
    after = ScoringState.objects.get(conversation_id=pk)
    assert after.messages_digest != state.messages_digest
    assert after.state["count"] == Message.objects.filter(conversation_id=pk).count()
    # A state the engine cannot read is ignored, and replaced.
    ScoringState.objects.filter(conversation_id=pk).update(state={"format": 1})
    ingest(acme, SOURCES[:1], upto=18)
    assert conversation_score(conversation_id=pk) is not None
    assert ScoringState.objects.get(conversation_id=pk).state["count"] == (
        Message.objects.filter(conversation_id=pk).count()
    )
