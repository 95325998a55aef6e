"""The seed corpus and the held-out paraphrases meet what the scoring issue asks of them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from scoring.characteristics import KEYS
from scoring.seed import HELDOUT_PATH, load_seed_messages


def normal(text: str) -> str:
    return " ".join(text.lower().split())


def test_every_characteristic_has_at_least_80_examples() -> None:
    counts = Counter(label for m in load_seed_messages() for label in m.labels)

    assert {k: counts[k] for k in KEYS if counts[k] < 80} == {}


def test_there_are_at_least_2000_benign_lines_including_hard_negatives() -> None:
    kinds = Counter(m.kind for m in load_seed_messages())

    assert kinds["benign"] + kinds["hard_negative"] >= 2000
    assert kinds["hard_negative"] >= 300


def test_the_held_out_paraphrases_are_in_no_training_file() -> None:
    seed = {normal(m.text) for m in load_seed_messages()}
    held_out = load_seed_messages(HELDOUT_PATH)

    assert [m.text for m in held_out if normal(m.text) in seed] == []
    counts = Counter(label for m in held_out for label in m.labels)
    assert min(counts[k] for k in KEYS) >= 15


def test_a_bad_seed_line_is_named_by_its_number(tmp_path: Path) -> None:
    path = tmp_path / "seed.jsonl"
    path.write_text(
        '{"text": "hi", "labels": [], "kind": "benign"}\n'
        '{"text": "meet me", "labels": ["meeting"], "kind": "grooming"}\n'
    )

    with pytest.raises(ValueError, match=r"seed.jsonl line 2: unknown label\(s\) meeting"):
        load_seed_messages(path)


def test_a_grooming_line_without_labels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "seed.jsonl"
    path.write_text('{"text": "x", "labels": [], "kind": "grooming"}\n')

    with pytest.raises(ValueError, match="line 1: grooming lines need labels"):
        load_seed_messages(path)
