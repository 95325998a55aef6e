"""The conversation generator: deterministic, labelled, realistic in time."""

from __future__ import annotations

from itertools import pairwise

from scoring.characteristics import KEYS
from scoring.dataset import dataset_fingerprint
from scoring.engine import STAGE_OF
from scoring.generator import generate_conversations


def test_the_same_seed_generates_the_same_conversations() -> None:
    assert dataset_fingerprint(generate_conversations(50, seed=9)) == dataset_fingerprint(
        generate_conversations(50, seed=9)
    )
    assert dataset_fingerprint(generate_conversations(50, seed=9)) != dataset_fingerprint(
        generate_conversations(50, seed=10)
    )


def test_the_mix_holds_grooming_benign_and_hard_negative_conversations() -> None:
    conversations = generate_conversations(400, seed=1)
    kinds = {c.kind for c in conversations}

    assert kinds == {"grooming", "benign", "hard_negative"}
    share = sum(c.label == 1 for c in conversations) / len(conversations)
    assert 0.25 < share < 0.45


def test_timestamps_are_aware_and_never_go_backwards() -> None:
    for conversation in generate_conversations(100, seed=2):
        moments = [m.sent_at for m in conversation.messages]
        assert all(m.utcoffset() is not None for m in moments)
        assert moments == sorted(moments)


def test_only_the_groomer_sends_labelled_messages_and_the_child_is_11_to_15() -> None:
    for conversation in generate_conversations(200, seed=3):
        if conversation.label != 1:
            assert not any(conversation.message_labels)
            continue
        [groomer] = conversation.predators
        senders = {
            m.sender
            for m, labels in zip(conversation.messages, conversation.message_labels, strict=True)
            if labels
        }
        assert senders == {groomer}
        child = next(p for p in conversation.participants if p.external_id != groomer)
        assert child.declared_age is not None
        assert 11 <= child.declared_age <= 15


def test_grooming_mostly_moves_through_the_stages_in_order() -> None:
    forward = backward = 0
    for conversation in generate_conversations(300, seed=4):
        stages = [
            max(STAGE_OF[k] for k in labels) for labels in conversation.message_labels if labels
        ]
        for a, b in pairwise(stages):
            forward += b >= a
            backward += b < a
    assert forward > 2 * backward


def test_every_characteristic_appears_in_generated_grooming() -> None:
    seen = {
        k
        for c in generate_conversations(300, seed=5)
        for labels in c.message_labels
        for k in labels
    }

    assert seen == set(KEYS)
