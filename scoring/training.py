"""Training: the message model on the seed corpus, the conversation model on labelled
conversations, and honest held-out metrics.

The default model splits the seed corpus 80/20; training conversations are generated from the
80% and test conversations from the 20%, so no test text was seen in training. The conversation
model learns from out-of-fold message scores, not the optimistic in-sample ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, wraps
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, train_test_split
from threadpoolctl import threadpool_limits

from scoring.characteristics import KEYS
from scoring.dataset import LabelledConversation, dataset_fingerprint
from scoring.engine import WINDOW, Engine, sender_windows
from scoring.errors import ScoringError
from scoring.evaluation import conversation_metrics
from scoring.features import MessageModel
from scoring.generator import generate_conversations
from scoring.seed import HELDOUT_PATH, SeedMessage, load_seed_messages, seed_fingerprint
from scoring.tenant_text import MIN_CONVERSATIONS_PER_CLASS, TenantText
from scoring.types import MessageScore

TRAIN_CONVERSATIONS = 1200
TEST_CONVERSATIONS = 400
# Window models of the default engine, each trained on its own generated conversations and
# averaged (Engine.fit_windows).
WINDOW_MODELS = 3


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
# Benign lines written in the style of real chat (their group names a domain, see
# scoring/generator.py) count this many times: there are fewer of them than of the older,
# cleaner lines, and they are what real traffic looks like.
REAL_STYLE_WEIGHT = 3.0
REAL_STYLE_DOMAINS = frozenset(
    {"tech", "gaming", "school", "adult", "fragments", "child", "common", "flirting", "anon",
     "caring"}
)  # fmt: skip


# Whose words a seed line is, by its domain: children's replies and school chat are a
# child's; adults' chat, technical chat, adults flirting and every grooming line an adult's.
# Gaming chat, fragments and the older lines could be anyone's, and teach nothing here.
CHILD_WRITTEN = frozenset({"child", "school"})
ADULT_WRITTEN = frozenset({"adult", "tech", "flirting", "anon"})


def _writer(message: SeedMessage) -> int | None:
    domain = message.group.split(":", 1)[0]
    if domain in CHILD_WRITTEN:
        return 1
    if domain in ADULT_WRITTEN or message.kind == "grooming":
        return 0
    return None


def _line_weight(message: SeedMessage) -> float:
    domain = message.group.split(":", 1)[0]
    if domain in REAL_STYLE_DOMAINS or domain.startswith("real-"):
        return REAL_STYLE_WEIGHT * (HARD_NEGATIVE_WEIGHT if message.kind == "hard_negative" else 1)
    return HARD_NEGATIVE_WEIGHT if message.kind == "hard_negative" else 1.0


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
        [_line_weight(m) for m in seed_messages],
    )
    writer_oof = model.fit_writer(
        [_writer(m) for m in seed_messages], [m.group for m in seed_messages]
    )
    Y = np.array([[k in m.labels for k in KEYS] for m in seed_messages], dtype=int)
    # The highlight budget holds for every line that is not grooming: a moderator's trust
    # is lost as much on "u there?" as on a coach's praise.
    hard_negative = np.array([m.kind != "grooming" for m in seed_messages])
    model.thresholds = pick_thresholds(oof, Y, hard_negative)
    limits = np.array([model.thresholds[k] for k in KEYS])
    oof_scores = {
        text: MessageScore(
            scores={k: float(p) for k, p in zip(KEYS, row, strict=True)},
            spans={k: [] for k, p, t in zip(KEYS, row, limits, strict=True) if p >= t},
            minor_writer=float(writer),
        )
        for text, row, writer in zip(texts, oof, writer_oof, strict=True)
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


# Windows of a training conversation that go into the window model: every WINDOW_STRIDE-th
# end, and the last. Neighbouring windows share most of their messages, so every end would
# multiply the rows without adding much.
WINDOW_STRIDE = 5
CALIBRATION_CONVERSATIONS = 600


def _window_rows(
    engine: Engine, conversation: LabelledConversation, scored: Sequence[MessageScore]
) -> tuple[np.ndarray, np.ndarray]:
    """Window rows of every sender of a labelled conversation, and their labels.

    The suspect's windows are positive when they hold at least two of the suspect's
    grooming-labelled messages, negative when they hold none, and left out when they hold
    one (one line is not a pattern, and the model must not learn that it is). Without
    message labels (a tenant's decisions, a corpus) every window of a grooming
    conversation's suspect is positive. Everyone else's windows are negative: a child's
    replies are not grooming."""
    matrix = engine.score_matrix(scored)
    windows = sender_windows(
        conversation.messages, matrix, engine.threshold_array(), engine.writer_array(scored)
    )
    suspects = _suspects(conversation, scored) if conversation.label == 1 else set()
    labelled = any(conversation.message_labels)
    n = len(conversation.messages)
    ends = np.unique(np.append(np.arange(WINDOW_STRIDE - 1, n, WINDOW_STRIDE), n - 1))
    rows, labels = [], []
    for sender, features in windows.items():
        if conversation.label == 1 and sender in suspects:
            if labelled:
                own = np.array(
                    [
                        bool(tags) and m.sender == sender
                        for m, tags in zip(
                            conversation.messages, conversation.message_labels, strict=True
                        )
                    ],
                    dtype=int,
                )
                running = np.concatenate([[0], np.cumsum(own)])
                held = running[ends + 1] - running[np.maximum(ends + 1 - WINDOW, 0)]
                keep = held != 1
                rows.append(features[ends[keep]])
                labels.append((held[keep] >= 2).astype(int))
            else:
                rows.append(features[ends])
                labels.append(np.ones(len(ends), dtype=int))
        else:
            rows.append(features[ends])
            labels.append(np.zeros(len(ends), dtype=int))
    if not rows:
        return np.zeros((0, engine.feature_count)), np.zeros(0, dtype=int)
    return np.vstack(rows), np.concatenate(labels)


def _window_training_set(
    engine: Engine, conversations: Sequence[tuple[LabelledConversation, float, list[MessageScore]]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The window rows of (conversation, weight, message scores), their labels and sample
    weights: each conversation's windows of one class weigh its weight together, and the two
    classes weigh the same."""
    all_rows, all_labels, all_weights = [], [], []
    for conversation, weight, scored in conversations:
        rows, labels = _window_rows(engine, conversation, scored)
        for value in (0, 1):
            chosen = labels == value
            if chosen.any():
                all_rows.append(rows[chosen])
                all_labels.append(labels[chosen])
                all_weights.append(np.full(chosen.sum(), weight / chosen.sum()))
    labels = np.concatenate(all_labels) if all_labels else np.zeros(0, dtype=int)
    if len(set(labels.tolist())) < 2:
        raise ScoringError("training needs grooming and benign windows; add conversations")
    weight = np.concatenate(all_weights)
    for value in (0, 1):  # the two classes weigh the same
        weight[labels == value] /= weight[labels == value].sum()
    return np.vstack(all_rows), labels, weight * len(weight)


def _suspects(conversation: LabelledConversation, scored: Sequence[MessageScore]) -> set[str]:
    """A grooming conversation's suspects: its predators, or else the participant whose
    messages raise the characteristics most."""
    if conversation.predators:
        return set(conversation.predators)
    evidence: dict[str, float] = {}
    for message, score in zip(conversation.messages, scored, strict=True):
        evidence[message.sender] = evidence.get(message.sender, 0.0) + max(
            score.scores.values(), default=0.0
        )
    return {max(evidence, key=lambda s: (evidence[s], s))} if evidence else set()


def _attach_tenant_text(
    engine: Engine,
    conversations: Sequence[LabelledConversation],
    scores: list[list[MessageScore]],
    random_state: int,
) -> None:
    """Train the tenant's text model on ``conversations`` and put its out-of-fold message
    probabilities into ``scores`` (in place), then give the engine the model."""
    texts, labels, groups, where = [], [], [], []
    for c, (conversation, scored) in enumerate(zip(conversations, scores, strict=True)):
        suspects = _suspects(conversation, scored) if conversation.label == 1 else set()
        for i, message in enumerate(conversation.messages):
            if conversation.label == 1 and message.sender not in suspects:
                continue  # the child's words are not what the model should learn
            texts.append(message.text)
            labels.append(int(conversation.label == 1))
            groups.append(conversation.external_id)
            where.append((c, i))
    model = TenantText(random_state=random_state)
    oof = model.fit(texts, labels, groups)
    for (c, i), value in zip(where, oof, strict=True):
        scores[c][i] = replace(scores[c][i], tenant_text=float(value))
    # Messages it never trained on (the child's words) get the final model's probability.
    for conversation, scored in zip(conversations, scores, strict=True):
        missing = [i for i, score in enumerate(scored) if score.tenant_text is None]
        values = model.predict([conversation.messages[i].text for i in missing])
        for i, value in zip(missing, values, strict=True):
            scored[i] = replace(scored[i], tenant_text=float(value))
    engine.tenant_text = model


def _fit(
    seed_messages: Sequence[SeedMessage],
    conversations: Sequence[LabelledConversation],
    random_state: int,
    sample_weight: Sequence[float] | None = None,
    *,
    tenant_text: bool = False,
    calibration: Sequence[LabelledConversation] | None = None,
    bags: Sequence[Sequence[LabelledConversation]] = (),
) -> tuple[Engine, dict[str, Any]]:
    """``sample_weight`` is aligned with ``conversations``. Each conversation's windows
    weigh as much together as ``sample_weight`` says, whatever its length, so a long
    conversation does not outvote the short ones. ``tenant_text`` also learns the
    conversations' own wording (scoring.tenant_text): for a tenant's real data. Each of
    ``bags`` (more conversations, drawn apart) trains one more window model, and the engine
    averages them (Engine.fit_windows)."""
    weights = list(sample_weight) if sample_weight is not None else [1.0] * len(conversations)
    if len(weights) != len(conversations):
        raise ValueError("sample_weight must have one weight per conversation")
    pairs = [(c, w) for c, w in zip(conversations, weights, strict=True) if c.label is not None]
    labelled = [c for c, _ in pairs]
    if len({c.label for c in labelled}) < 2:
        raise ScoringError("training needs conversations labelled both 1 (grooming) and 0")
    fit = fit_messages(seed_messages, random_state)
    engine = Engine(fit.model, random_state=random_state)
    # Half the conversations train the window model, the other half calibrate it: a
    # calibration on the windows' own training data would believe them too much.
    order = np.random.default_rng(random_state).permutation(len(pairs))
    calibrate_on = set() if calibration else set(order[: max(len(pairs) // 3, 1)].tolist())
    held: list[tuple[LabelledConversation, list[MessageScore]]] = []
    scores = [_message_scores(engine, conversation, fit.oof_scores) for conversation in labelled]
    if tenant_text:
        _attach_tenant_text(engine, labelled, scores, random_state)
    trained = []
    for index, ((conversation, weight), scored) in enumerate(zip(pairs, scores, strict=True)):
        if index in calibrate_on:
            held.append((conversation, scored))
        else:
            trained.append((conversation, weight, scored))
    engine.fit_windows(*_window_training_set(engine, trained))
    for bag in bags:
        engine.fit_windows(
            *_window_training_set(
                engine, [(c, 1.0, _message_scores(engine, c, fit.oof_scores)) for c in bag]
            ),
            add=True,
        )
    if calibration:
        held = [(c, _message_scores(engine, c, fit.oof_scores)) for c in calibration]
    raw = np.array(
        [
            engine.raw_scores(c.messages, scored, ceiling=False)[0].max(initial=0.0)
            for c, scored in held
        ]
    )
    truth = np.array([c.label for c, _ in held])
    if len(set(truth.tolist())) < 2:
        raise ScoringError("too few conversations of one class to calibrate the model")
    engine.fit_calibration(raw, truth)
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


def learns_tenant_text(conversations: Sequence[LabelledConversation]) -> bool:
    """Enough labelled conversations of each class to learn their wording."""
    counts = [sum(c.label == value for c in conversations) for value in (0, 1)]
    return min(counts) >= MIN_CONVERSATIONS_PER_CLASS


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
    engine, metrics = _fit(
        seed_messages, train, random_state, tenant_text=learns_tenant_text(train)
    )
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
    # Calibrated on conversations of their own, not on the window model's training data,
    # which it would believe too much. (Benign chat sprinkled with lines that look like a
    # characteristic was tried for this set and for the training set: on the real
    # development chat it ranked no better, ROC-AUC 0.974 and 0.968 against 0.973, and
    # only moved the operating point: 3 grooming conversations fewer caught at 0.5.)
    calibration = generate_conversations(
        CALIBRATION_CONVERSATIONS, seed=random_state + 3, seed_messages=seed
    )
    bags = [
        generate_conversations(TRAIN_CONVERSATIONS, seed=random_state + 100 * k + 1,
                               seed_messages=seed)
        for k in range(1, WINDOW_MODELS)
    ]  # fmt: skip
    engine, metrics = _fit(
        seed, train_conversations, random_state, calibration=calibration, bags=bags
    )
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


def _group_of(conversation: LabelledConversation) -> str:
    """Cross-validation keeps an offender's conversations (or, without one, a conversation)
    on one side: the other side must be people the model never read."""
    return "|".join(sorted(conversation.predators)) or conversation.external_id


@reproducible
def cross_validate(
    *,
    seed_messages: Sequence[SeedMessage],
    conversations: Sequence[LabelledConversation],
    folds: int = 5,
    random_state: int = 0,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Grouped, stratified k-fold cross-validation of ``train_engine``'s model on labelled
    conversations: each fold trains on the others (tenant text included when there is enough
    of it) and scores its own conversations, which it never saw."""
    labelled = [c for c in conversations if c.label is not None]
    groups = [_group_of(c) for c in labelled]
    y = np.array([c.label for c in labelled])
    per_class = min(
        len({g for g, label in zip(groups, y, strict=True) if label == v}) for v in (0, 1)
    )
    if per_class < folds:
        raise ScoringError(
            f"{folds}-fold cross-validation needs at least {folds} groups (offenders or "
            f"conversations) of each class; the smaller class has {per_class}"
        )
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=random_state)
    probs = np.zeros(len(labelled))
    fold_auc = []
    for train, test in splitter.split(np.zeros(len(y)), y, groups):
        train_set = [labelled[i] for i in train]
        engine, _ = _fit(
            seed_messages, train_set, random_state, tenant_text=learns_tenant_text(train_set)
        )
        probs[test] = conversation_probabilities(engine, [labelled[i] for i in test])
        if len(set(y[test].tolist())) == 2:
            fold_auc.append(float(roc_auc_score(y[test], probs[test])))
    return {
        "folds": folds,
        "groups": len(set(groups)),
        "pooled": conversation_metrics(y.tolist(), probs.tolist(), threshold),
        "fold_roc_auc": fold_auc,
    }
