"""The issue's acceptance measures on hand-written paraphrases that no training file holds.

Recall per characteristic at the display threshold must be at least 0.8, ordinary chat and
hard negatives (benign lines that look like grooming) highlighted at most 10% of the time.
"""

from __future__ import annotations

import pytest

from scoring.characteristics import KEYS
from scoring.seed import HELDOUT_PATH, SeedMessage, load_seed_messages
from scoring.types import MessageScore
from tests.scoring_support import trained_default


@pytest.fixture(scope="module")
def scored() -> list[tuple[SeedMessage, MessageScore]]:
    held_out = load_seed_messages(HELDOUT_PATH)
    results = trained_default().engine.score_messages([m.text for m in held_out])
    return list(zip(held_out, results, strict=True))


def hard_negative_rate(scored: list[tuple[SeedMessage, MessageScore]]) -> float:
    hard = [s for m, s in scored if m.kind == "hard_negative"]
    return sum(bool(s.spans) for s in hard) / len(hard)


@pytest.mark.parametrize("key", KEYS)
def test_recall_on_unseen_paraphrases_is_at_least_0_8(
    key: str, scored: list[tuple[SeedMessage, MessageScore]]
) -> None:
    positives = [s for m, s in scored if key in m.labels]
    recall = sum(key in s.spans for s in positives) / len(positives)

    assert recall >= 0.8, f"{key}: recall {recall:.2f} on {len(positives)} paraphrases"


def test_ordinary_chat_is_rarely_highlighted(
    scored: list[tuple[SeedMessage, MessageScore]],
) -> None:
    benign = [s for m, s in scored if m.kind == "benign"]

    assert sum(bool(s.spans) for s in benign) / len(benign) <= 0.10


def test_hard_negatives_are_highlighted_at_most_10_percent_of_the_time(
    scored: list[tuple[SeedMessage, MessageScore]],
) -> None:
    assert hard_negative_rate(scored) <= 0.10
