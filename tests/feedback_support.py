"""Decided conversations for the feedback-loop tests: real ingest, real decisions.

A conversation is ingested as a platform would send it, given a queue item leased to the
moderator, and decided through ``decision_create``, the same service the console calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from django.utils import timezone

from review.decisions.services import decision_create
from review.intake.api.inputs import ConversationInput
from review.intake.services import conversations_upsert
from review.models import (
    Assessment,
    Conversation,
    Decision,
    QueueItem,
    QueueStatus,
    Tenant,
)
from scoring.dataset import LabelledConversation
from scoring.feedback import is_held_out
from scoring.generator import generate_conversations
from tests.scoring_support import ingest_payload

REASON_FOR = {
    "no_violation": "benign_context",
    "warn": "grooming_indicators",
    "suspend": "grooming_indicators",
    "ban": "grooming_indicators",
    "escalate_ncmec": "grooming_indicators",
    "escalate_law_enforcement": "grooming_indicators",
    "ask_supervisor": "second_opinion",
}


def ingest(tenant: Tenant, conversations: Sequence[LabelledConversation]) -> list[Conversation]:
    records = []
    for conversation in conversations:
        serializer = ConversationInput(data=ingest_payload(conversation))
        serializer.is_valid(raise_exception=True)
        records.append(serializer.validated_data)
    return [r.conversation for r in conversations_upsert(tenant=tenant, records=records)]


def decide(conversation: Conversation, moderator: Any, verdict: str) -> Decision:
    """Lease the conversation to the moderator as the queue would, and decide it."""
    now = timezone.now()
    assessment = Assessment.objects.create(
        conversation=conversation, model_version="test", probability=0.9,
        characteristic_scores={}, message_count=conversation.message_count,
        content_fingerprint=f"decided-{conversation.pk}-{now.timestamp()}", scored_at=now,
    )  # fmt: skip
    item = QueueItem.objects.create(
        tenant=conversation.tenant, conversation=conversation, assessment=assessment,
        status=QueueStatus.CLAIMED, priority=0.9, rank=0.9, probability=0.9, enqueued_at=now,
        claimed_by=moderator, lease_expires_at=now + timedelta(minutes=10),
    )  # fmt: skip
    return decision_create(
        item=item, moderator=moderator, verdict=verdict, reason_code=REASON_FOR[verdict]
    )


@cache
def pool() -> tuple[LabelledConversation, ...]:
    return tuple(generate_conversations(260, seed=9090, platform="acme-chat"))


def decision_set(*, grooming: int, benign: int) -> list[LabelledConversation]:
    """The first ``grooming`` grooming and ``benign`` benign conversations of a fixed
    generated pool (deterministic, so the held-out share of it is known in advance)."""
    picked = [c for c in pool() if c.label == 1][:grooming]
    picked += [c for c in pool() if c.label == 0][:benign]
    return picked


def held_out_counts(conversations: Sequence[LabelledConversation]) -> dict[int, int]:
    out = {0: 0, 1: 0}
    for c in conversations:
        if is_held_out(c.external_id):
            out[int(c.label or 0)] += 1
    return out


def decide_as_labelled(
    tenant: Tenant, moderator: Any, data: Sequence[LabelledConversation]
) -> None:
    """Ingest and decide each conversation as its generator label says: ban or no violation."""
    for conversation, stored in zip(data, ingest(tenant, data), strict=True):
        decide(stored, moderator, "ban" if conversation.label == 1 else "no_violation")
