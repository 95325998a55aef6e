"""The scoring engine: message-level characteristic scores, a calibrated conversation
probability, and explanations a moderator can read. No database here: callers pass plain
``scoring.types`` values and get plain values back."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier

from scoring import characteristics
from scoring.characteristics import KEYS
from scoring.features import MessageModel
from scoring.types import ConversationScore, Highlight, Message, MessageScore, Participant

# O'Connell's stages, earliest first: a later stage after an earlier one is the pattern.
STAGE_OF = {
    "personal_info_probe": 0, "trust_building": 0, "age_gap_normalisation": 1,
    "supervision_check": 1, "exclusivity_isolation": 1, "secrecy_request": 2,
    "sexual_content": 3, "media_request": 3, "gifts_incentives": 3, "pressure_coercion": 3,
    "platform_migration": 4, "meeting_arrangement": 4,
}  # fmt: skip
PAIRS = (
    ("secrecy_request", "platform_migration", "asks for secrecy and to move to another app"),
    ("media_request", "pressure_coercion", "asks for pictures or video and applies pressure"),
    ("meeting_arrangement", "supervision_check", "checks who is around and proposes meeting"),
)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{k}_{stat}" for k in KEYS for stat in ("max", "mean", "count")),
    "messages_log", "stage_coverage", "stage_order", "top_sender_share", "flagged_sender_older",
    "rate_log", "late_night_share", "age_gap", "minor_present", "undeclared_with_minor",
    "account_age_log", *(f"{a}+{b}" for a, b, _ in PAIRS),
)  # fmt: skip


def _hour(moment: datetime) -> int:
    return moment.hour  # messages carry the sender's own offset, so this is local time


def conversation_features(
    participants: Sequence[Participant],
    messages: Sequence[Message],
    scores: np.ndarray,
    thresholds: np.ndarray,
) -> np.ndarray:
    """One row of FEATURE_NAMES for a conversation; ``scores`` is messages x characteristics."""
    n = len(messages)
    out: list[float] = []
    flagged = scores >= thresholds if n else np.zeros((0, len(KEYS)), dtype=bool)
    for j in range(len(KEYS)):
        column = scores[:, j] if n else np.zeros(1)
        out += [float(column.max()), float(column.mean()), math.log1p(int(flagged[:, j].sum()))]
    out.append(math.log1p(n))
    stages = [
        max(STAGE_OF[KEYS[j]] for j in np.flatnonzero(flagged[i]))
        for i in range(n)
        if flagged[i].any()
    ]
    out.append(len(set(stages)) / 5)
    steps = list(pairwise(stages))
    out.append(sum(b >= a for a, b in steps) / len(steps) if steps else 0.0)
    senders = [messages[i].sender for i in range(n) if flagged[i].any()]
    ages = {p.external_id: p.declared_age for p in participants}
    if senders:
        top, count = max(((s, senders.count(s)) for s in set(senders)), key=lambda x: (x[1], x[0]))
        out.append(count / len(senders))
        others = [a for pid, a in ages.items() if pid != top and a is not None]
        top_age = ages.get(top)
        out.append(float(bool(others) and (top_age is None or top_age > min(others))))
    else:
        out += [0.0, 0.0]
    if n >= 2:
        hours = max((messages[-1].sent_at - messages[0].sent_at).total_seconds() / 3600, 1 / 60)
        out.append(math.log1p(n / hours))
    else:
        out.append(0.0)
    out.append(
        sum(_hour(m.sent_at) >= 22 or _hour(m.sent_at) < 6 for m in messages) / n if n else 0.0
    )
    declared = [a for a in ages.values() if a is not None]
    out.append((max(declared) - min(declared)) / 30 if len(declared) >= 2 else 0.0)
    minor = any(a < 16 for a in declared)
    out.append(float(minor))
    out.append(float(minor and any(a is None for a in ages.values())))
    first = messages[0].sent_at if n else None
    account_days = [
        (first - p.account_created_at).days
        for p in participants
        if first is not None and p.account_created_at is not None
    ]
    out.append(math.log1p(max(min(account_days), 0)) if account_days else math.log1p(365))
    index = {k: j for j, k in enumerate(KEYS)}
    for a, b, _ in PAIRS:
        out.append(float(min(out[index[a] * 3], out[index[b] * 3])))
    return np.array(out, dtype=np.float64)


class Engine:
    """A trained message model and conversation model, pickled as one artifact."""

    def __init__(self, message_model: MessageModel, *, random_state: int = 0) -> None:
        self.message_model = message_model
        self.conversation_model: CalibratedClassifierCV | None = None
        self.random_state = random_state
        self.version = ""  # set by scoring.artifacts when loaded from the registry

    @property
    def display_thresholds(self) -> dict[str, float]:
        return dict(self.message_model.thresholds)

    def _threshold_array(self) -> np.ndarray:
        return np.array([self.message_model.thresholds[k] for k in KEYS])

    def fit_conversations(
        self, rows: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> None:
        base = HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.08, max_leaf_nodes=15, l2_regularization=1.0,
            random_state=self.random_state,
        )  # fmt: skip
        self.conversation_model = CalibratedClassifierCV(base, method="sigmoid", cv=3)
        self.conversation_model.fit(rows, labels, sample_weight=sample_weight)

    def score_messages(self, texts: Sequence[str]) -> list[MessageScore]:
        return self.message_model.score(texts)

    def features(
        self,
        participants: Sequence[Participant],
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
    ) -> np.ndarray:
        matrix = np.array([[s.scores[k] for k in KEYS] for s in scored]).reshape(
            len(scored), len(KEYS)
        )
        return conversation_features(participants, messages, matrix, self._threshold_array())

    def probability(self, rows: np.ndarray) -> np.ndarray:
        if self.conversation_model is None:
            raise RuntimeError("the conversation model is not trained")
        return self.conversation_model.predict_proba(rows)[:, 1]

    def score_conversation(
        self,
        participants: Sequence[Participant],
        messages: Sequence[Message],
        cached: Sequence[MessageScore | None] | None = None,
    ) -> ConversationScore:
        """Score a conversation. Entries of ``cached`` (aligned with ``messages``) are reused
        as they are; only messages without one go through the message model."""
        cached = list(cached) if cached is not None else [None] * len(messages)
        if len(cached) != len(messages):
            raise ValueError("cached must be aligned with messages")
        todo = [i for i, c in enumerate(cached) if c is None]
        fresh = self.score_messages([messages[i].text for i in todo]) if todo else []
        scored: list[MessageScore] = list(cached)  # type: ignore[arg-type]
        for i, result in zip(todo, fresh, strict=True):
            scored[i] = result
        row = self.features(participants, messages, scored)
        probability = float(self.probability(row[None, :])[0])
        highlights = [
            Highlight(m.external_id, key, s.scores[key], spans)
            for m, s in zip(messages, scored, strict=True)
            for key, spans in s.spans.items()
        ]
        return ConversationScore(
            probability=probability,
            characteristic_scores={
                k: max((s.scores[k] for s in scored), default=0.0) for k in KEYS
            },
            message_scores=scored,
            highlights=highlights,
            factors=self.factors(participants, messages, scored, row),
            model_version=self.version,
            suspect_scores=self.suspects(participants, messages, scored, probability),
        )

    # -- explanations -------------------------------------------------------------------
    @staticmethod
    def suspects(
        participants: Sequence[Participant],
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
        probability: float,
    ) -> dict[str, float]:
        """Per participant: the conversation probability times their share of the flagged
        behaviour (severity-weighted). Used for author-level identification (PAN 2012)."""
        weight: dict[str, float] = {p.external_id: 0.0 for p in participants}
        for message, score in zip(messages, scored, strict=True):
            for key in score.spans:
                weight[message.sender] = weight.get(message.sender, 0.0) + (
                    score.scores[key] * characteristics.get(key).severity
                )
        total = sum(weight.values())
        return {pid: (probability * w / total if total else 0.0) for pid, w in weight.items()}

    @staticmethod
    def factors(
        participants: Sequence[Participant],
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
        row: np.ndarray,
    ) -> list[str]:
        found: dict[str, list[int]] = {}
        for i, score in enumerate(scored):
            for key in score.spans:
                found.setdefault(key, []).append(i)
        lines = []
        ordered = sorted(
            found.items(), key=lambda kv: (-characteristics.get(kv[0]).severity, -len(kv[1]))
        )
        for key, indices in ordered[:4]:
            senders = sorted({messages[i].sender for i in indices})
            first = messages[indices[0]].sent_at
            count = len(indices)
            lines.append(
                f"{characteristics.get(key).label} in {count} message{'s' if count > 1 else ''} "
                f"from {', '.join(senders)}, first at {first:%H:%M} on {first:%d %b} "
                f"(UTC{first:%z})"
            )
        named = dict(zip(FEATURE_NAMES, row, strict=True))
        for a, b, words in PAIRS:
            if a in found and b in found:
                lines.append(f"Both in one conversation: {words}")
        if named["stage_coverage"] >= 0.6 and named["stage_order"] >= 0.7:
            lines.append(
                "Moves through the grooming stages in order (befriend, isolate, secrecy, escalate)"
            )
        ages = [p.declared_age for p in participants if p.declared_age is not None]
        if len(ages) >= 2 and max(ages) - min(ages) >= 5:
            lines.append(f"Declared ages {min(ages)} and {max(ages)}")
        elif named["undeclared_with_minor"]:
            lines.append(
                f"A participant with no declared age talks with a declared {min(ages)}-year-old"
            )
        if messages and named["late_night_share"] >= 0.3:
            lines.append(
                f"{named['late_night_share']:.0%} of messages late at night (sender's local time)"
            )
        if named["account_age_log"] < math.log1p(31) and participants:
            lines.append("An account created less than a month before the conversation")
        return lines
