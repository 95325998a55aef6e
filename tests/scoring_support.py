"""Real engines and generated conversations for tests of the pipeline.

The default engine is trained once per test session (deterministic, seconds) and registered
in each test's database on demand, so pipeline tests run the real model, never a stand-in.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scoring.dataset import LabelledConversation
from scoring.generator import generate_conversations
from scoring.training import TrainResult, train_default


@cache
def trained_default() -> TrainResult:
    return train_default(random_state=0)


@cache
def _sample() -> tuple[LabelledConversation, ...]:
    return tuple(generate_conversations(60, seed=4242))


def grooming_conversation(min_messages: int = 20) -> LabelledConversation:
    return grooming_conversations(1, min_messages)[0]


def grooming_conversations(count: int, min_messages: int = 20) -> list[LabelledConversation]:
    """The first ``count`` grooming conversations of the sample, the kind the demo seeds."""
    return [c for c in _sample() if c.label == 1 and len(c.messages) >= min_messages][:count]


def sample_conversations(count: int, min_messages: int = 10) -> list[LabelledConversation]:
    """The first ``count`` conversations of the sample with enough messages, grooming and
    benign mixed as generated."""
    return [c for c in _sample() if len(c.messages) >= min_messages][:count]


def benign_conversation(min_messages: int = 10) -> LabelledConversation:
    return next(
        c
        for c in _sample()
        if c.label == 0 and c.kind == "benign" and len(c.messages) >= min_messages
    )


def ingest_payload(
    conversation: LabelledConversation, *, upto: int | None = None
) -> dict[str, Any]:
    """The conversation as the JSON body a platform would POST (labels left out)."""
    messages = conversation.messages[:upto] if upto is not None else conversation.messages
    return {
        "external_id": conversation.external_id,
        "platform": conversation.platform,
        "participants": [
            {
                "external_id": p.external_id,
                **({"declared_age": p.declared_age} if p.declared_age is not None else {}),
                **(
                    {"account_created_at": p.account_created_at.isoformat()}
                    if p.account_created_at
                    else {}
                ),
            }
            for p in conversation.participants
        ],
        "messages": [
            {
                "external_id": m.external_id,
                "sender": m.sender,
                "sent_at": m.sent_at.isoformat(),
                "text": m.text,
            }
            for m in messages
        ],
    }
