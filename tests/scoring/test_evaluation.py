"""Evaluation measures against small hand-computed examples."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from scoring.dataset import LabelledConversation
from scoring.evaluation import author_metrics, conversation_metrics, early_warning, latency_penalty
from scoring.types import Message, Participant


def test_a_known_confusion_matrix_gives_known_precision_recall_and_f_scores() -> None:
    # 3 true positives, 1 false positive, 2 false negatives, 4 true negatives
    truth = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]
    probs = [0.9, 0.8, 0.7, 0.6, 0.2, 0.1, 0.3, 0.2, 0.1, 0.0]

    m = conversation_metrics(truth, probs, 0.5)

    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (3, 1, 2, 4)
    assert m["precision"] == pytest.approx(0.75)
    assert m["recall"] == pytest.approx(0.6)
    assert m["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert m["f0.5"] == pytest.approx(1.25 * 0.75 * 0.6 / (0.25 * 0.75 + 0.6))


def test_ranking_measures_are_nan_not_a_crash_when_only_one_class_is_present() -> None:
    m = conversation_metrics([0, 0, 0], [0.1, 0.2, 0.9], 0.5)

    assert math.isnan(m["roc_auc"])
    assert m["fp"] == 1


def test_author_level_identification_counts_authors() -> None:
    m = author_metrics({"a", "b", "x"}, {"a", "b", "c", "d"}, {"a", "b", "c", "d", "x", "y"})

    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(0.5)


def conversation(n: int, label: int) -> LabelledConversation:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    messages = [Message(f"m{i}", "a", start + timedelta(minutes=i), "x") for i in range(n)]
    return LabelledConversation("c", "p", [Participant("a")], messages, [frozenset()] * n, label)


def test_the_warning_comes_when_5_of_the_last_10_windows_are_positive() -> None:
    positive = conversation(30, 1)
    # Windows ending at message 8 and later are positive: the 5th positive is at message 12.
    result = early_warning([positive], lambda c, end: 1.0 if end >= 8 else 0.0, threshold=0.5)

    assert result["median_messages_before_warning"] == 12
    assert result["recall"] == 1.0


def test_speed_and_f_latency_follow_the_latency_penalty() -> None:
    convs = [conversation(21, 1), conversation(21, 0)]
    result = early_warning(convs, lambda c, end: float(c.label == 1), threshold=0.5)

    p = math.log(3) / 20  # penalty is 0.5 at the median positive length, 21 messages
    assert latency_penalty(21, p) == pytest.approx(0.5)
    assert result["speed"] == pytest.approx(1 - latency_penalty(5, p))
    assert result["f_latency"] == pytest.approx(result["f1"] * result["speed"])
    assert result["precision"] == 1.0
