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
    # Per participant: the evidence in that participant's own messages (the sum, over the
    # messages whose strongest characteristic reaches the highlight score, of that score).
    # Who a case reports ranks by it (``engine.suspects_ranked``).
    responsibility: dict[str, float] = field(default_factory=dict)
    # What a later rescore of the same conversation with more messages continues from
    # (Engine.score_conversation's ``prior``).
    window_state: WindowState | None = None


@dataclass(frozen=True, slots=True)
class SenderWindowState:
    """One sender's windows as they stood after a conversation's covered messages (see
    WindowState). ``best`` is the raw (uncalibrated) strongest window score, None when there
    is no window yet; the rest is what a window ending at a later message carries over."""

    best: float | None
    other_minor: bool  # someone else has said they are a child
    self_adult: bool  # this sender has said they are an adult
    child: float  # the "others write like a child" feature of the last window (a running max)
    total: float  # the others' child-writer values summed, up to the last WINDOW - 1 messages

    def to_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "other_minor": self.other_minor,
            "self_adult": self.self_adult,
            "child": self.child,
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SenderWindowState:
        return cls(
            best=None if data["best"] is None else float(data["best"]),
            other_minor=bool(data["other_minor"]),
            self_adult=bool(data["self_adult"]),
            child=float(data["child"]),
            total=float(data["total"]),
        )


@dataclass(frozen=True, slots=True)
class WindowState:
    """What a rescore needs of a conversation's first ``count`` messages to read only the
    windows ending at later ones (``Engine.score_conversation(..., prior=state)``), with a
    result identical to scoring it whole.

    The contract: the first ``count`` messages passed with the state are exactly those it was
    made from, in the same order, with the same message scores (``cached``) as the call that
    made it was given or computed. Scores stored rounded (``MessageScore.to_dict``) are other
    scores: make the state from the same values the next call will pass. The engine checks the
    last WINDOW - 1 of them, which it reads again (``tail``: their ids, senders and scores), and
    raises ValueError when they differ; the earlier ones are the caller's to keep unchanged.

    Floats are exact: JSON writes a float as its shortest repr, which reads back to the same
    float. (A NaN message score would make NaN values here, which strict JSON cannot hold.)"""

    engine: str  # Engine.window_fingerprint() of the engine that made it
    count: int  # messages covered
    tail: str  # digest of the last WINDOW - 1 covered messages' ids, senders and scores
    top: float | None  # raw strongest window of any sender (None: no message yet)
    end: int  # the first message ending a window that scores ``top`` (-1: none)
    evidence: float | None  # the strongest single message (Engine.evidence), None: none yet
    columns: tuple[float, ...] | None  # each characteristic's highest score; None: some NaN
    first_minor: int  # the first message in which someone says they are a child (-1: none)
    senders: dict[str, SenderWindowState]
    # A sender not yet seen: their windows so far hold no words of their own. (Its ``best``
    # is None: read when such a sender writes, from its last window; see Engine._read_on.)
    newcomer: SenderWindowState
    # Per sender, the evidence in their own messages so far (ConversationScore.responsibility).
    responsibility: dict[str, float] = field(default_factory=dict)
    format: int = 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "engine": self.engine,
            "count": self.count,
            "tail": self.tail,
            "top": self.top,
            "end": self.end,
            "evidence": self.evidence,
            "columns": None if self.columns is None else list(self.columns),
            "first_minor": self.first_minor,
            "senders": {k: v.to_dict() for k, v in self.senders.items()},
            "newcomer": self.newcomer.to_dict(),
            "responsibility": self.responsibility,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowState:
        return cls(
            format=int(data["format"]),
            engine=str(data["engine"]),
            count=int(data["count"]),
            tail=str(data["tail"]),
            top=None if data["top"] is None else float(data["top"]),
            end=int(data["end"]),
            evidence=None if data["evidence"] is None else float(data["evidence"]),
            columns=None if data["columns"] is None else tuple(float(v) for v in data["columns"]),
            first_minor=int(data["first_minor"]),
            senders={k: SenderWindowState.from_dict(v) for k, v in data["senders"].items()},
            newcomer=SenderWindowState.from_dict(data["newcomer"]),
            # Absent from the first layout (format 1), which the engine reads as stale.
            responsibility={k: float(v) for k, v in data.get("responsibility", {}).items()},
        )
