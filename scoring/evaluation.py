"""Evaluation measures: conversation-level, PAN 2012 author-level, and early warning.

Early warning follows Vogt, Leser & Akbik (2021), "Early Detection of Sexual Predators in
Chats" (ACL): after each new message the classifier sees the last 50 messages; a warning is
raised once at least 5 of the last 10 window decisions were positive. The number of messages
read before the warning is k. Speed uses the latency penalty of Sadeque et al. (2018) as the
paper does: penalty(k) = -1 + 2 / (1 + exp(-p (k - 1))), with p chosen so that the penalty is
0.5 at the median length (in messages) of the positive conversations; speed = 1 - median
penalty over true-positive warnings; F-latency = F1 x speed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from scoring.dataset import LabelledConversation

PUBLISHED = (
    "Published reference figures, measured on PAN 2012 (a different dataset from ours):\n"
    "  PAN 2012 winner (Villatoro-Tello et al.): predator identification P 0.9804, "
    "R 0.7874, F0.5 0.9346\n"
    "  bag-of-words linear SVM (Morris & Hirst 2012): F1 0.77\n"
    "  early warning, Vogt et al. 2021 (PAN12-derived): F-latency BERT-base 0.81, "
    "MobileBERT 0.58"
)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0

    def f(beta: float) -> float:
        b2 = beta * beta
        denominator = b2 * precision + recall
        return (1 + b2) * precision * recall / denominator if denominator else 0.0

    return {"precision": precision, "recall": recall, "f1": f(1.0), "f0.5": f(0.5)}


def conversation_metrics(
    y_true: Sequence[int], y_prob: Sequence[float], threshold: float
) -> dict[str, float]:
    truth = np.asarray(y_true, dtype=int)
    prob = np.asarray(y_prob, dtype=float)
    predicted = prob >= threshold
    tp = int((predicted & (truth == 1)).sum())
    fp = int((predicted & (truth == 0)).sum())
    fn = int((~predicted & (truth == 1)).sum())
    tn = int((~predicted & (truth == 0)).sum())
    both = len(set(truth.tolist())) == 2
    return {
        "roc_auc": float(roc_auc_score(truth, prob)) if both else math.nan,
        "pr_auc": float(average_precision_score(truth, prob)) if both else math.nan,
        **_prf(tp, fp, fn),
        "threshold": float(threshold),
        "tp": float(tp), "fp": float(fp), "fn": float(fn), "tn": float(tn), "n": float(len(truth)),
    }  # fmt: skip


def author_metrics(
    predicted_predators: set[str], true_predators: set[str], all_authors: set[str]
) -> dict[str, float]:
    """PAN 2012 predator identification over authors."""
    predicted = predicted_predators & all_authors
    truth = true_predators & all_authors
    tp = len(predicted & truth)
    return {
        **_prf(tp, len(predicted - truth), len(truth - predicted)),
        "authors": float(len(all_authors)),
        "predators": float(len(truth)),
    }


def latency_penalty(k: int, p: float) -> float:
    return -1 + 2 / (1 + math.exp(-p * (k - 1)))


def early_warning(
    conversations: Sequence[LabelledConversation],
    window_scorer: Callable[[LabelledConversation, int], float],
    *,
    threshold: float,
    window: int = 50,
    votes: int = 5,
    of_last: int = 10,
    step: int = 1,
) -> dict[str, float]:
    """``window_scorer(conversation, end)`` returns the probability for messages
    [max(0, end - window), end). See the module docstring for the protocol."""
    warned_at: list[int | None] = []
    for conversation in conversations:
        decisions: list[bool] = []
        at = None
        for end in range(1, len(conversation.messages) + 1, step):
            decisions.append(window_scorer(conversation, end) >= threshold)
            if sum(decisions[-of_last:]) >= votes:
                at = end
                break
        warned_at.append(at)
    truth = [c.label == 1 for c in conversations]
    tp = sum(1 for t, w in zip(truth, warned_at, strict=True) if t and w is not None)
    fp = sum(1 for t, w in zip(truth, warned_at, strict=True) if not t and w is not None)
    fn = sum(1 for t, w in zip(truth, warned_at, strict=True) if t and w is None)
    scores = _prf(tp, fp, fn)
    positive_lengths = [len(c.messages) for c, t in zip(conversations, truth, strict=True) if t]
    median_length = median(positive_lengths) if positive_lengths else 1
    # penalty(median) = 0.5  =>  2 / (1 + e^(-p (m - 1))) = 1.5  =>  p = ln 3 / (m - 1)
    p = math.log(3) / max(median_length - 1, 1)
    delays = [w for t, w in zip(truth, warned_at, strict=True) if t and w is not None]
    speed = 1 - median(latency_penalty(k, p) for k in delays) if delays else 0.0
    return {
        **scores,
        "speed": speed,
        "f_latency": scores["f1"] * speed,
        "median_messages_before_warning": float(median(delays)) if delays else math.nan,
        "mean_messages_before_warning": float(sum(delays) / len(delays)) if delays else math.nan,
        "conversations": float(len(conversations)),
        "penalty_p": p,
    }


@dataclass
class EvaluationReport:
    dataset: str
    conversation: dict[str, float]
    authors: dict[str, float] | None = None
    early: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)

    def format(self) -> str:
        def row(name: str, values: dict[str, Any], keys: Sequence[str]) -> str:
            return f"  {name:<22}" + "  ".join(f"{k} {values[k]:.4f}" for k in keys if k in values)

        c = self.conversation
        lines = [
            f"Evaluation on {self.dataset}",
            f"Conversation level ({int(c['n'])} conversations, threshold {c['threshold']:.2f}):",
            row("ranking", c, ("roc_auc", "pr_auc")),
            row("at threshold", c, ("precision", "recall", "f1", "f0.5")),
            "  confusion              "
            + "  ".join(f"{k} {int(c[k])}" for k in ("tp", "fp", "fn", "tn")),
        ]  # fmt: skip
        if self.authors:
            a = self.authors
            lines += [
                f"Predator identification, PAN 2012 protocol ({int(a['authors'])} authors, "
                f"{int(a['predators'])} predators):",
                row("authors", a, ("precision", "recall", "f1", "f0.5")),
            ]
        if self.early:
            e = self.early
            lines += [
                "Early warning, Vogt et al. 2021 protocol (window 50, warn at 5 of last 10):",
                row("warnings", e, ("precision", "recall", "f1")),
                row("latency", e, ("speed", "f_latency")),
                "  messages read before the warning: median "
                f"{e['median_messages_before_warning']:.1f}, "
                f"mean {e['mean_messages_before_warning']:.1f}",
            ]
        lines += self.notes
        lines.append(PUBLISHED)
        return "\n".join(lines)
