"""Plain data types at the scoring engine's boundary.

The engine is ORM-free: ``scoring.services`` turns database rows into these and back.
Every type converts to and from JSON-compatible dicts so results can be stored in JSON columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Span = tuple[int, int]  # [start, end) character offsets into the message text


@dataclass(frozen=True, slots=True)
class Participant:
    external_id: str
    declared_age: int | None = None
    account_created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Message:
    external_id: str
    sender: str  # a Participant.external_id
    sent_at: datetime  # timezone-aware
    text: str


@dataclass(frozen=True, slots=True)
class MessageScore:
    """Message-level result: calibrated probability per characteristic, and the spans
    (for characteristics at or above the display threshold) of the words that drove them."""

    scores: dict[str, float]
    spans: dict[str, list[Span]] = field(default_factory=dict)
    # Probability that the line was written by a child (scoring.features.fit_writer).
    minor_writer: float = 0.0
    # How much the line reads like a suspect's in the tenant's own labelled data
    # (scoring.tenant_text); None for the default model, which has no tenant data.
    tenant_text: float | None = None

    def flagged(self) -> list[str]:
        """Characteristics shown to a moderator for this message (those with spans)."""
        return sorted(self.spans, key=lambda k: -self.scores.get(k, 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "spans": {k: [list(s) for s in v] for k, v in self.spans.items()},
            "minor_writer": round(self.minor_writer, 4),
            **({} if self.tenant_text is None else {"tenant_text": round(self.tenant_text, 4)}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MessageScore:
        return cls(
            scores={k: float(v) for k, v in data["scores"].items()},
            spans={k: [(int(a), int(b)) for a, b in v] for k, v in data.get("spans", {}).items()},
            minor_writer=float(data.get("minor_writer", 0.0)),
            tenant_text=None if data.get("tenant_text") is None else float(data["tenant_text"]),
        )


@dataclass(frozen=True, slots=True)
class Highlight:
    message_external_id: str
    characteristic: str
    score: float
    spans: list[Span]

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message_external_id,
            "characteristic": self.characteristic,
            "score": round(self.score, 4),
            "spans": [list(s) for s in self.spans],
        }


@dataclass(frozen=True, slots=True)
class ConversationScore:
    probability: float  # calibrated probability that the conversation is grooming
    characteristic_scores: dict[str, float]  # per characteristic, the highest message score
    message_scores: list[MessageScore]  # aligned with the messages passed in
    highlights: list[Highlight]  # message/characteristic pairs above the display threshold
    factors: list[str]  # main contributing factors, in words a moderator understands
    model_version: str
    # Per participant: how strongly that participant shows the grooming behaviour found.
    suspect_scores: dict[str, float] = field(default_factory=dict)
