"""Training: the message model on the seed corpus, the conversation model on labelled
conversations, and honest held-out metrics.

The default model splits the seed corpus 80/20; training conversations are generated from the
80% and test conversations from the 20%, so no test text was seen in training. The conversation
model learns from out-of-fold message scores, not the optimistic in-sample ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from scoring.characteristics import KEYS
from scoring.dataset import LabelledConversation, dataset_fingerprint
from scoring.engine import Engine
from scoring.errors import ScoringError
from scoring.evaluation import conversation_metrics
from scoring.features import MessageModel
from scoring.generator import generate_conversations
from scoring.seed import HELDOUT_PATH, SeedMessage, load_seed_messages, seed_fingerprint
from scoring.types import MessageScore

TRAIN_CONVERSATIONS = 1200
TEST_CONVERSATIONS = 400


@dataclass
class TrainResult:
    engine: Engine
    metrics: dict[str, Any]
    data_fingerprint: str


def reproducible(train: Callable[..., TrainResult]) -> Callable[..., TrainResult]:
    """Train with one BLAS thread: sums in another order give other last bits, and the model
    version (a hash of the artifact) must not depend on how many cores a machine has."""

    @wraps(train)
    def wrapper(*args: Any, **kwargs: Any) -> TrainResult:
        with threadpool_limits(limits=1):
            return train(*args, **kwargs)

    return wrapper


# The largest share of the seed's hard negatives (benign lines that look like grooming) that
# may get a highlight out of fold. A highlight on a coach's praise or a parent's "don't tell
# dad, it's a surprise" costs a moderator's attention and trust in the highlights.
HARD_NEGATIVE_BUDGET = 0.03
# ...but no characteristic gives up more than this much out-of-fold recall for it: the budget
# must not be met by silencing the characteristic whose hard negatives are hardest.
MAX_RECALL_LOSS = 0.15
# Hard negatives count this many times in the message models' loss: they are the lines that
# teach the context which makes a request harmless, and they are fewer than plain chat.
HARD_NEGATIVE_WEIGHT = 4.0
_GRID = np.round(np.arange(0.1, 0.951, 0.025), 3)


def _f2_thresholds(probs: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per characteristic, the threshold with the best out-of-fold F2 (recall counts four
    times precision: a missed secrecy request costs more than a harmless highlight)."""
    out = np.full(len(KEYS), 0.5)
    for j in range(len(KEYS)):
        truth = Y[:, j] == 1
        best_score = -1.0
        for t in _GRID[_GRID <= 0.8]:
            flagged = probs[:, j] >= t
            tp = float((flagged & truth).sum())
            precision = tp / flagged.sum() if flagged.sum() else 0.0
            recall = tp / truth.sum() if truth.sum() else 0.0
            score = 5 * precision * recall / (4 * precision + recall) if tp else 0.0
            if score > best_score:
                out[j], best_score = float(t), score
    return out


def pick_thresholds(
    probs: np.ndarray,
    Y: np.ndarray,
    hard_negative: np.ndarray | None = None,
    *,
    budget: float = HARD_NEGATIVE_BUDGET,
    max_recall_loss: float = MAX_RECALL_LOSS,
) -> dict[str, float]:
    """Display thresholds from out-of-fold probabilities (never from held-out data).

    Start from each characteristic's best F2 threshold. Then, while more than ``budget`` of
    the hard negatives (rows where ``hard_negative`` is true) would get any highlight, raise
    the one threshold that clears the most hard negatives per point of recall it costs that
    characteristic, never costing one more than ``max_recall_loss`` of the recall it started
    with. Deterministic: ties go to the first characteristic and the lower step."""
    thresholds = _f2_thresholds(probs, Y)
    if hard_negative is None or not hard_negative.any():
        return dict(zip(KEYS, thresholds.tolist(), strict=True))
    hard = probs[hard_negative]
    positives = np.maximum(Y.sum(axis=0), 1)
    start_hits = ((probs >= thresholds) & (Y == 1)).sum(axis=0)
    while (flagged := (hard >= thresholds).any(axis=1)).mean() > budget:
        best: tuple[float, int, float] | None = None
        for j in range(len(KEYS)):
            # Hard negatives that only characteristic j highlights: raising j clears them.
            others = np.delete(hard >= thresholds, j, axis=1).any(axis=1)
            hits_now = ((probs[:, j] >= thresholds[j]) & (Y[:, j] == 1)).sum()
            for t in _GRID[thresholds[j] < _GRID]:
                cleared = int((flagged & ~others & (hard[:, j] < t)).sum())
                if not cleared:
                    continue
                hits = ((probs[:, j] >= t) & (Y[:, j] == 1)).sum()
                if (start_hits[j] - hits) / positives[j] > max_recall_loss:
                    break
                lost = hits_now - hits
                value = cleared / (lost / positives[j] + 1e-3)
                if best is None or value > best[0]:
                    best = (value, j, float(t))
        if best is None:
            break
        thresholds[best[1]] = best[2]
    return dict(zip(KEYS, thresholds.tolist(), strict=True))


def heldout_conversations(random_state: int = 0) -> list[LabelledConversation]:
    """Test conversations built only from the held-out paraphrases (scoring/data/
    heldout_paraphrases.jsonl): every text in them is unseen by the default model."""
    return generate_conversations(
        TEST_CONVERSATIONS,
        seed=random_state + 2,
        seed_messages=load_seed_messages(HELDOUT_PATH),
        platform="held-out",
    )


def _message_scores(
    engine: Engine, conversation: LabelledConversation, oof: dict[str, MessageScore]
) -> list[MessageScore]:
    """Scores for a training conversation: out-of-fold ones for seed texts, the model's own
    for texts it never trained on."""
    cached = [oof.get(m.text) for m in conversation.messages]
    todo = [i for i, c in enumerate(cached) if c is None]
    fresh = engine.score_messages([conversation.messages[i].text for i in todo])
    for i, score in zip(todo, fresh, strict=True):
        cached[i] = score
    return cached  # type: ignore[return-value]


@dataclass(frozen=True)
class MessageFit:
    """The message model trained on a seed corpus, with its out-of-fold scores (what the
    conversation model learns from) and out-of-fold metrics. Shared, never mutated."""

    model: MessageModel
    oof_scores: dict[str, MessageScore]
    metrics: dict[str, Any]


@lru_cache(maxsize=2)
def _fit_messages_cached(seed_messages: tuple[SeedMessage, ...], random_state: int) -> MessageFit:
    model = MessageModel(random_state=random_state)
    texts = [m.text for m in seed_messages]
    oof = model.fit(
        texts,
        [m.labels for m in seed_messages],
        [m.group for m in seed_messages],
        [HARD_NEGATIVE_WEIGHT if m.kind == "hard_negative" else 1.0 for m in seed_messages],
    )
    Y = np.array([[k in m.labels for k in KEYS] for m in seed_messages], dtype=int)
    hard_negative = np.array([m.kind == "hard_negative" for m in seed_messages])
    model.thresholds = pick_thresholds(oof, Y, hard_negative)
    limits = np.array([model.thresholds[k] for k in KEYS])
    oof_scores = {
        text: MessageScore(
            scores={k: float(p) for k, p in zip(KEYS, row, strict=True)},
            spans={k: [] for k, p, t in zip(KEYS, row, limits, strict=True) if p >= t},
        )
        for text, row in zip(texts, oof, strict=True)
    }
    flagged = oof >= limits
    message_metrics = {}
    for j, key in enumerate(KEYS):
        tp = int((flagged[:, j] & (Y[:, j] == 1)).sum())
        fp = int((flagged[:, j] & (Y[:, j] == 0)).sum())
        fn = int((~flagged[:, j] & (Y[:, j] == 1)).sum())
        message_metrics[key] = {
            "threshold": model.thresholds[key],
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
        }
    return MessageFit(model=model, oof_scores=oof_scores, metrics=message_metrics)


def fit_messages(seed_messages: Sequence[SeedMessage], random_state: int) -> MessageFit:
    """The message model for a seed corpus. Training is deterministic, so the result is kept
    per process: a tenant challenger trained after the default (or several in one test run)
    reuses the same message model instead of spending seconds refitting an identical one."""
    return _fit_messages_cached(tuple(seed_messages), random_state)


def _fit(
    seed_messages: Sequence[SeedMessage],
    conversations: Sequence[LabelledConversation],
    random_state: int,
    sample_weight: Sequence[float] | None = None,
) -> tuple[Engine, dict[str, Any]]:
    """``sample_weight`` is aligned with ``conversations``."""
    weights = list(sample_weight) if sample_weight is not None else [1.0] * len(conversations)
    if len(weights) != len(conversations):
        raise ValueError("sample_weight must have one weight per conversation")
    pairs = [(c, w) for c, w in zip(conversations, weights, strict=True) if c.label is not None]
    labelled = [c for c, _ in pairs]
    if len({c.label for c in labelled}) < 2:
        raise ScoringError("training needs conversations labelled both 1 (grooming) and 0")
    fit = fit_messages(seed_messages, random_state)
    engine = Engine(fit.model, random_state=random_state)
    rows = np.array(
        [
            engine.features(c.participants, c.messages, _message_scores(engine, c, fit.oof_scores))
            for c in labelled
        ]
    )
    engine.fit_conversations(
        rows,
        np.array([c.label for c in labelled]),
        sample_weight=np.array([w for _, w in pairs]) if sample_weight is not None else None,
    )
    return engine, {"message_out_of_fold": fit.metrics}


def _held_out_message_metrics(engine: Engine, test: Sequence[SeedMessage]) -> dict[str, Any]:
    scored = engine.score_messages([m.text for m in test])
    out = {}
    for key in KEYS:
        truth = np.array([key in m.labels for m in test])
        predicted = np.array([key in s.spans for s in scored])
        tp, fp = int((truth & predicted).sum()), int((~truth & predicted).sum())
        fn = int((truth & ~predicted).sum())
        out[key] = {
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "support": int(truth.sum()),
        }
    hard = [s for m, s in zip(test, scored, strict=True) if m.kind == "hard_negative"]
    out["hard_negatives_flagged"] = sum(bool(s.spans) for s in hard) / len(hard) if hard else 0.0
    return out


def conversation_probabilities(
    engine: Engine, conversations: Sequence[LabelledConversation]
) -> list[float]:
    return [
        engine.score_conversation(c.participants, c.messages).probability for c in conversations
    ]


@reproducible
def train_engine(
    *,
    seed_messages: Sequence[SeedMessage],
    conversations: Sequence[LabelledConversation],
    random_state: int = 0,
) -> TrainResult:
    """Train on the given seed messages and labelled conversations. A quarter of the
    conversations is held out for the reported conversation metrics."""
    labelled = [c for c in conversations if c.label is not None]
    if len(labelled) < 8:
        raise ScoringError(f"need at least 8 labelled conversations to train; got {len(labelled)}")
    train, test = train_test_split(
        labelled, test_size=0.25, random_state=random_state, stratify=[c.label for c in labelled]
    )
    engine, metrics = _fit(seed_messages, train, random_state)
    probs = conversation_probabilities(engine, test)
    metrics["conversation"] = conversation_metrics([c.label for c in test], probs, 0.5)
    fingerprint = hashlib.sha256(
        (seed_fingerprint() + dataset_fingerprint(conversations)).encode()
    ).hexdigest()
    return TrainResult(engine=engine, metrics=metrics, data_fingerprint=fingerprint)


@reproducible
def train_default(random_state: int = 0) -> TrainResult:
    """The default model: the whole seed corpus and conversations generated from it; metrics
    on the held-out paraphrases and on conversations built from them."""
    seed = load_seed_messages()
    train_conversations = generate_conversations(
        TRAIN_CONVERSATIONS, seed=random_state + 1, seed_messages=seed
    )
    engine, metrics = _fit(seed, train_conversations, random_state)
    metrics["message_held_out"] = _held_out_message_metrics(
        engine, load_seed_messages(HELDOUT_PATH)
    )
    test = heldout_conversations(random_state)
    probs = conversation_probabilities(engine, test)
    metrics["conversation"] = conversation_metrics([c.label or 0 for c in test], probs, 0.5)
    fingerprint = hashlib.sha256(
        f"{seed_fingerprint()}:{random_state}:{TRAIN_CONVERSATIONS}".encode()
    ).hexdigest()
    return TrainResult(engine=engine, metrics=metrics, data_fingerprint=fingerprint)
