"""The conversation generator: deterministic, labelled, realistic in time."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from scoring.characteristics import KEYS
from scoring.dataset import LabelledConversation, dataset_fingerprint
from scoring.engine import STAGE_OF
from scoring.generator import generate_conversations
from scoring.types import Participant


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


def test_only_the_groomer_sends_labelled_messages() -> None:
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


def declares_a_minor(participant: Participant) -> bool:
    return participant.declared_age is not None and participant.declared_age < 16


def has_a_new_account(participant: Participant, conversation: LabelledConversation) -> bool:
    created = participant.account_created_at
    return created is not None and conversation.messages[0].sent_at - created < timedelta(days=30)


def share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def test_metadata_is_drawn_independently_of_the_label() -> None:
    """A model trained on these conversations cannot learn that a declared child or a new
    account means grooming: both are about as common in benign chat as in grooming."""
    conversations = generate_conversations(1000, seed=3)
    grooming = [c for c in conversations if c.label == 1]
    benign = [c for c in conversations if c.label == 0]
    groomers = [(p, c) for c in grooming for p in c.participants if p.external_id in c.predators]
    children = [p for c in grooming for p in c.participants if p.external_id not in c.predators]
    everyone_benign = [(p, c) for c in benign for p in c.participants]

    with_minor = share([any(map(declares_a_minor, c.participants)) for c in grooming])
    benign_with_minor = share([any(map(declares_a_minor, c.participants)) for c in benign])
    assert 0.05 < with_minor < 0.35  # most conversations declare no child at all
    assert abs(with_minor - benign_with_minor) < 0.05
    # The child of a grooming conversation declares a minor age as rarely as anyone else.
    child_minor = share([declares_a_minor(p) for p in children])
    benign_minor = share([declares_a_minor(p) for p, _ in everyone_benign])
    assert abs(child_minor - benign_minor) < 0.05
    # And a groomer's account is new about as often as anyone's in benign chat.
    new_groomer = share([has_a_new_account(p, c) for p, c in groomers])
    new_benign = share([has_a_new_account(p, c) for p, c in everyone_benign])
    assert new_groomer < 0.3  # most groomers' accounts are not new, or have no date
    assert abs(new_groomer - new_benign) < 0.06


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
