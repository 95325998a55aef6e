"""The feedback loop's engine side: hold out a stable share of a tenant's decided
conversations, train a challenger on the rest, compare it with the champion, and say whether
it earns promotion. ORM-free like the rest of the engine; ``review.services.feedback`` feeds
it rows and stores the outcome.

The split. A conversation is held out when a SHA-256 of its external id falls in the first
quarter of the hash space. The hash never looks at the label or at the other conversations,
so:
- it is deterministic and stable: a conversation held out today is held out at every later
  retraining, however many decisions are added. A champion that was itself a challenger was
  therefore never trained on any conversation the next challenger is judged on, and the
  comparison stays fair;
- it is stratified in expectation: each class is held out at the same 25% rate. With few
  labels the shares wobble, so the comparison refuses to run with fewer than
  ``MIN_HELD_OUT_PER_CLASS`` held-out conversations of either class;
- anyone with the exported JSONL can reproduce it (the salt is a constant, not a secret).
Exact per-class quotas (sklearn's stratified split) would move conversations between the
two sides as the set grows, and leak yesterday's training data into today's test.

The rule (``promotion_verdict``). A challenger is promoted when, on the tenant's held-out
decisions, its PR-AUC beats the champion's by at least ``PROMOTION_MARGIN`` and its recall
at the tenant's flag threshold is not lower. PR-AUC measures the ranking the queue is
ordered by, over every threshold, on the grooming class (ROC-AUC is flattered by the many
easy benign conversations). The recall guard holds the line at the threshold the tenant
actually runs: a missed grooming conversation costs far more than one extra review, and a
model that ranks a little better but flags fewer of them must not slip in unnoticed. Ties
keep the champion: a change of model needs evidence.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scoring.dataset import LabelledConversation, dataset_fingerprint
from scoring.engine import Engine
from scoring.errors import ScoringError
from scoring.evaluation import conversation_metrics
from scoring.generator import generate_conversations
from scoring.seed import SeedMessage, seed_fingerprint
from scoring.training import (
    TRAIN_CONVERSATIONS,
    TrainResult,
    _fit,
    conversation_probabilities,
    reproducible,
)

HELD_OUT_SHARE = 0.25
SPLIT_SALT = "artemis-held-out-1"
MIN_HELD_OUT_PER_CLASS = 5
PROMOTION_MARGIN = 0.02  # PR-AUC points the challenger must gain
# A tenant's decisions are real judgements on its own traffic; generated conversations are
# synthetic. Together the decisions weigh as much as the generated set, but one decision
# never counts for more than this many generated conversations (a handful of labels must
# not swing the whole model).
MAX_DECISION_WEIGHT = 10.0
RULE = (
    f"promote when the challenger's PR-AUC on the tenant's held-out decisions is at least "
    f"{PROMOTION_MARGIN:.2f} higher than the champion's and its recall at the tenant's flag "
    "threshold is not lower"
)


def held_out_position(external_id: str) -> float:
    """Where a conversation falls in [0, 1): below HELD_OUT_SHARE means held out."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{external_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(external_id: str) -> bool:
    return held_out_position(external_id) < HELD_OUT_SHARE


@dataclass(frozen=True)
class Split:
    train: list[LabelledConversation]
    held_out: list[LabelledConversation]

    def counts(self) -> dict[str, dict[str, int]]:
        def of(group: list[LabelledConversation]) -> dict[str, int]:
            grooming = sum(1 for c in group if c.label == 1)
            return {
                "conversations": len(group),
                "grooming": grooming,
                "benign": len(group) - grooming,
            }

        return {"train": of(self.train), "held_out": of(self.held_out)}


def split_decisions(conversations: Sequence[LabelledConversation]) -> Split:
    """Split labelled conversations (unlabelled ones are dropped) into train and held out,
    checking that there is enough of each class to compare models; errors say how many
    more decisions are needed."""
    labelled = [c for c in conversations if c.label is not None]
    if not labelled:
        raise ScoringError("no labelled conversations: there are no decisions to learn from yet")
    classes = {c.label for c in labelled}
    if len(classes) < 2:
        only = "grooming" if classes == {1} else "benign (no violation)"
        raise ScoringError(
            f"all {len(labelled)} labelled conversations are {only}; a challenger can only be "
            "trained and compared with decisions of both kinds"
        )
    split = Split(
        train=[c for c in labelled if not is_held_out(c.external_id)],
        held_out=[c for c in labelled if is_held_out(c.external_id)],
    )
    held = split.counts()["held_out"]
    short = {k: held[k] for k in ("grooming", "benign") if held[k] < MIN_HELD_OUT_PER_CLASS}
    if short:
        total = {
            "grooming": sum(1 for c in labelled if c.label == 1),
            "benign": sum(1 for c in labelled if c.label == 0),
        }
        detail = " and ".join(f"{n} {kind} (of {total[kind]} decided)" for kind, n in short.items())
        needed = math.ceil(MIN_HELD_OUT_PER_CLASS / HELD_OUT_SHARE)
        raise ScoringError(
            f"too few decisions to compare models: the held-out quarter has {detail}; at "
            f"least {MIN_HELD_OUT_PER_CLASS} of each kind are needed, which takes about "
            f"{needed} decided conversations of each kind"
        )
    if not split.train:
        raise ScoringError("every decided conversation fell in the held-out share; decide more")
    return split


def decision_weight(decisions: int, generated: int) -> float:
    if decisions == 0:
        return 1.0
    return max(1.0, min(MAX_DECISION_WEIGHT, generated / decisions))


@reproducible
def train_challenger(
    *,
    seed_messages: Sequence[SeedMessage],
    decisions: Sequence[LabelledConversation],
    generated: int = TRAIN_CONVERSATIONS,
    random_state: int = 0,
) -> TrainResult:
    """The seed corpus's message model, and a conversation model trained on ``generated``
    conversations from the seed corpus plus the tenant's (training share of) decisions.
    Metrics are left to ``compare``: they belong to the tenant's held-out decisions."""
    base = generate_conversations(generated, seed=random_state + 1, seed_messages=seed_messages)
    weight = decision_weight(len(decisions), generated)
    engine, metrics = _fit(
        seed_messages,
        [*base, *decisions],
        random_state,
        sample_weight=[1.0] * len(base) + [weight] * len(decisions),
    )
    metrics["training"] = {
        "generated": generated,
        "decisions": len(decisions),
        "decision_weight": round(weight, 4),
    }
    fingerprint = hashlib.sha256(
        f"{seed_fingerprint()}:{random_state}:{generated}:{weight}:"
        f"{dataset_fingerprint(decisions)}".encode()
    ).hexdigest()
    return TrainResult(engine=engine, metrics=metrics, data_fingerprint=fingerprint)


def promotion_verdict(champion: dict[str, float], challenger: dict[str, float]) -> tuple[bool, str]:
    """Apply RULE to two ``conversation_metrics`` results on the same held-out set."""
    gain = challenger["pr_auc"] - champion["pr_auc"]
    if challenger["recall"] < champion["recall"] - 1e-12:
        return False, (
            f"recall at the threshold would drop from {champion['recall']:.3f} to "
            f"{challenger['recall']:.3f}"
        )
    if gain < PROMOTION_MARGIN - 1e-12:
        return False, (
            f"PR-AUC {champion['pr_auc']:.3f} -> {challenger['pr_auc']:.3f} ({gain:+.3f}) is "
            f"not better by {PROMOTION_MARGIN:.2f} or more"
        )
    return True, (
        f"PR-AUC {champion['pr_auc']:.3f} -> {challenger['pr_auc']:.3f} ({gain:+.3f}), recall "
        f"at the threshold {champion['recall']:.3f} -> {challenger['recall']:.3f}"
    )


@dataclass(frozen=True)
class Comparison:
    threshold: float
    champion: dict[str, float]
    challenger: dict[str, float]
    better: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "champion": self.champion,
            "challenger": self.challenger,
            "better": self.better,
            "why": self.why,
            "rule": RULE,
        }


def compare(
    champion: Engine,
    challenger: Engine,
    held_out: Sequence[LabelledConversation],
    *,
    threshold: float,
) -> Comparison:
    truth = [int(c.label or 0) for c in held_out]
    champion_metrics = conversation_metrics(
        truth, conversation_probabilities(champion, held_out), threshold
    )
    challenger_metrics = conversation_metrics(
        truth, conversation_probabilities(challenger, held_out), threshold
    )
    better, why = promotion_verdict(champion_metrics, challenger_metrics)
    return Comparison(threshold, champion_metrics, challenger_metrics, better, why)


SHOWN = (
    ("PR-AUC", "pr_auc"), ("ROC-AUC", "roc_auc"), ("precision", "precision"),
    ("recall", "recall"), ("F1", "f1"), ("F0.5", "f0.5"),
)  # fmt: skip


def format_comparison(comparison: Comparison, champion: str, challenger: str) -> list[str]:
    """Champion and challenger side by side, as the command prints them."""
    lines = [f"  {'':<12}{'champion ' + champion:>26}{'challenger ' + challenger:>28}"]
    for label, key in SHOWN:
        a, b = comparison.champion[key], comparison.challenger[key]
        lines.append(f"  {label:<12}{a:>26.4f}{b:>28.4f}   {b - a:+.4f}")
    for label, key in (("flagged", "flagged"), ("missed", "fn")):
        a_count = _count(comparison.champion, key)
        b_count = _count(comparison.challenger, key)
        lines.append(f"  {label:<12}{a_count:>26d}{b_count:>28d}")
    return lines


def _count(metrics: dict[str, float], key: str) -> int:
    if key == "flagged":
        return int(metrics["tp"] + metrics["fp"])
    return int(metrics[key])
