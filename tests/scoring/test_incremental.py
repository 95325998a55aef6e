"""A rescore from a WindowState (``Engine.score_conversation(..., prior=state)``) says exactly
what scoring the whole conversation says: the probability, each participant's score, where
the strongest evidence ends, the highlights, the factors, and the state to continue from,
equal to the bit. Conversations are split at many points (within the first window, at its
edge, in the middle, a message from the end), carried on through many rescores, in group
chats where senders first write after the split and with ages stated after it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import pytest

from scoring import disclosures
from scoring.characteristics import KEYS
from scoring.engine import _CACHES, STATE_FORMAT, WINDOW, Engine
from scoring.generator import generate_conversations
from scoring.tenant_text import TenantText
from scoring.types import ConversationScore, Message, MessageScore, Participant, WindowState
from tests.scoring_support import trained_default

Chat = tuple[list[Participant], list[Message]]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return trained_default().engine


def _renamed(messages: list[Message], prefix: str, later: timedelta) -> list[Message]:
    return [
        replace(m, sender=f"{prefix}{m.sender}", external_id=f"{prefix}{m.external_id}",
                sent_at=m.sent_at + later)
        for m in messages
    ]  # fmt: skip


@cache
def chats() -> tuple[Chat, ...]:
    """Generated conversations (seed 31, none of training's), then ones they do not hold: a
    group chat of three conversations whose second and third join later, a long one of
    eight back to back, one with ages stated late (a newcomer's too), and a single line."""
    generated = generate_conversations(40, seed=31)
    out = [(list(c.participants), list(c.messages)) for c in generated]
    a, b, c = generated[0], generated[1], generated[2]
    start = a.messages[0].sent_at
    group = [*a.messages]
    people = [*a.participants]
    for prefix, other, k in (("g-", b, 1), ("h-", c, 2)):
        later = start - other.messages[0].sent_at + timedelta(minutes=7 * k * len(a.messages))
        group += _renamed(list(other.messages), prefix, later)
        people += [replace(p, external_id=f"{prefix}{p.external_id}") for p in other.participants]
    group.sort(key=lambda m: m.sent_at)
    out.append((people, group))
    long = [
        replace(m, external_id=f"{k}-{m.external_id}")
        for k, conversation in enumerate(generated[3:11])
        for m in conversation.messages
    ]
    out.append(([p for conversation in generated[3:11] for p in conversation.participants], long))
    grooming = next(
        g
        for g in generated
        if g.label == 1
        and len(g.messages) >= 60
        and not any(disclosures.states_minor(m.text) for m in g.messages)
    )
    adult, child = list(dict.fromkeys(m.sender for m in grooming.messages))[:2]
    said = list(grooming.messages)
    at = said[-1].sent_at
    late = [
        (len(said) - 12, child, "lol im 13 btw"),
        (len(said) - 8, adult, "i'm 19"),
        (len(said) - 4, "newcomer", "hey its me, im 12"),
        (len(said) - 2, "newcomer", "14 f"),
    ]
    for k, (where, sender, text) in enumerate(late):
        said.insert(where, Message(f"late-{k}", sender, at + timedelta(seconds=k), text))
    out.append(([*grooming.participants, Participant("newcomer")], said))
    out.append((list(a.participants), list(a.messages[:1])))
    return tuple(out)


def splits(n: int, seed: int) -> list[int]:
    """Where to split a conversation of ``n`` messages: at the first messages, around the
    edge of the first window, in the middle, near and at the end, and a few anywhere."""
    fixed = {1, 2, 3, 5, 10, WINDOW - 2, WINDOW - 1, WINDOW, WINDOW + 1, 2 * WINDOW}
    fixed |= {n // 3, n // 2, n - 6, n - 5, n - 2, n - 1, n}
    rng = np.random.default_rng(seed)
    fixed |= set(rng.integers(1, n + 1, size=3).tolist())
    return sorted(k for k in fixed if 1 <= k <= n)


@contextmanager
def whole_readings(engine: Engine) -> Iterator[list[int]]:
    """Counts the engine's readings of a whole conversation (Engine._strongest) meanwhile."""
    calls: list[int] = []
    original = engine._strongest

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(args[0]))
        return original(*args, **kwargs)

    engine.__dict__["_strongest"] = counted
    try:
        yield calls
    finally:
        del engine.__dict__["_strongest"]


def through_json(state: WindowState) -> WindowState:
    return WindowState.from_dict(json.loads(json.dumps(state.to_dict())))


def assert_identical(got: ConversationScore, want: ConversationScore) -> None:
    assert got.probability.hex() == want.probability.hex()
    assert {k: v.hex() for k, v in got.suspect_scores.items()} == {
        k: v.hex() for k, v in want.suspect_scores.items()
    }
    assert {k: v.hex() for k, v in got.responsibility.items()} == {
        k: v.hex() for k, v in want.responsibility.items()
    }
    assert got.highlights == want.highlights
    assert got.factors == want.factors
    assert got.characteristic_scores == want.characteristic_scores
    assert got.window_state == want.window_state
    assert got == want


def check_splits(engine: Engine, participants: list[Participant], messages: list[Message],
                 seed: int) -> tuple[int, int]:  # fmt: skip
    """Rescore from a prior at every split; returns (rescores, how many read it whole)."""
    whole = engine.score_conversation(participants, messages)
    scores = whole.message_scores
    done = whole_again = 0
    for k in splits(len(messages), seed):
        head = engine.score_conversation(participants, messages[:k], scores[:k])
        with whole_readings(engine) as read:
            rescored = engine.score_conversation(
                participants, messages, scores, prior=through_json(head.window_state)
            )
        assert_identical(rescored, whole)
        done += 1
        whole_again += bool(read)
    return done, whole_again


def test_a_rescore_from_a_prior_equals_scoring_whole_at_every_split(engine: Engine) -> None:
    done = whole_again = 0
    for seed, (participants, messages) in enumerate(chats()):
        d, w = check_splits(engine, participants, messages, seed)
        done, whole_again = done + d, whole_again + w
    assert done > 500
    # Reading whole is the rare way out (a new sender's windows before they wrote scoring
    # as high as any), never the rule.
    assert whole_again <= done // 50


def test_senders_new_after_the_split_and_ages_stated_after_it(engine: Engine) -> None:
    participants, messages = chats()[-2]  # ages stated late, and a newcomer
    whole = engine.score_conversation(participants, messages)
    first_late = next(i for i, m in enumerate(messages) if m.external_id.startswith("late-"))
    assert any("says they are a child" in f for f in whole.factors)
    for k in range(first_late - 3, len(messages)):
        head = engine.score_conversation(participants, messages[:k], whole.message_scores[:k])
        with whole_readings(engine) as read:
            rescored = engine.score_conversation(
                participants, messages, whole.message_scores, prior=head.window_state
            )
        assert_identical(rescored, whole)
        assert not read
    assert "newcomer" in whole.window_state.senders
    assert whole.window_state.first_minor >= first_late


def test_a_group_chat_whose_senders_join_after_the_split(engine: Engine) -> None:
    participants, messages = chats()[40]  # three conversations, the later two join late
    whole = engine.score_conversation(participants, messages)
    senders = len({m.sender for m in messages})
    assert senders >= 5
    joined_later = 0
    for k in range(1, len(messages), 7):
        head = engine.score_conversation(participants, messages[:k], whole.message_scores[:k])
        with whole_readings(engine) as read:
            rescored = engine.score_conversation(
                participants, messages, whole.message_scores, prior=head.window_state
            )
        assert_identical(rescored, whole)
        joined_later += not read and len(head.window_state.senders) < senders
    assert joined_later >= 5


def test_a_state_carried_through_many_rescores_equals_scoring_whole(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    for participants, messages in [chats()[0], chats()[40], chats()[41], chats()[-2]]:
        scores = engine.score_conversation(participants, messages).message_scores
        state, k = None, 0
        while k < len(messages):
            k = min(len(messages), k + int(rng.integers(1, 8)))
            whole = engine.score_conversation(participants, messages[:k], scores[:k])
            rescored = engine.score_conversation(
                participants, messages[:k], scores[:k], prior=state
            )
            assert_identical(rescored, whole)
            state = through_json(rescored.window_state)


def test_the_rescore_reads_only_the_windows_ending_at_new_messages(engine: Engine) -> None:
    participants, messages = chats()[41]  # the long one
    assert len(messages) > 300
    whole = engine.score_conversation(participants, messages)
    head = engine.score_conversation(participants, messages[:-5], whole.message_scores[:-5])
    rated: list[int] = []
    original = engine.raw_window_scores

    def counted(rows: np.ndarray, **kwargs: bool) -> np.ndarray:
        rated.append(len(rows))
        return original(rows, **kwargs)

    engine.__dict__["raw_window_scores"] = counted
    try:
        with whole_readings(engine) as read:
            rescored = engine.score_conversation(
                participants, messages, whole.message_scores, prior=head.window_state
            )
    finally:
        del engine.__dict__["raw_window_scores"]
    assert_identical(rescored, whole)
    assert not read
    senders = len(head.window_state.senders)
    assert sum(rated) <= 5 * senders + 1  # the new windows, and a newcomer's last


def test_a_prior_covering_every_message_changes_nothing(engine: Engine) -> None:
    participants, messages = chats()[0]
    whole = engine.score_conversation(participants, messages)
    again = engine.score_conversation(
        participants, messages, whole.message_scores, prior=whole.window_state
    )
    assert_identical(again, whole)


def test_the_state_is_json_and_reads_back_to_the_same_floats(engine: Engine) -> None:
    participants, messages = chats()[40]
    state = engine.score_conversation(participants, messages).window_state
    assert state is not None
    text = json.dumps(state.to_dict(), allow_nan=False)
    assert WindowState.from_dict(json.loads(text)) == state
    assert state.count == len(messages)
    assert set(state.senders) == {m.sender for m in messages}


def test_an_empty_conversation_has_a_state_to_continue_from(engine: Engine) -> None:
    participants, messages = chats()[0]
    empty = engine.score_conversation(participants, [])
    assert empty.window_state is not None
    assert empty.window_state.count == 0
    whole = engine.score_conversation(participants, messages)
    assert_identical(
        engine.score_conversation(participants, messages, prior=empty.window_state), whole
    )


def test_a_prior_from_another_engine_or_layout_is_ignored(engine: Engine) -> None:
    participants, messages = chats()[0]
    whole = engine.score_conversation(participants, messages)
    head = engine.score_conversation(participants, messages[:20], whole.message_scores[:20])
    assert head.window_state is not None
    other = copy.copy(engine)
    other.__dict__ = {k: v for k, v in engine.__dict__.items() if k not in _CACHES}
    other.version = "another-version"
    stale = [
        replace(head.window_state, engine="another engine"),
        replace(head.window_state, format=STATE_FORMAT + 1),
        other.score_conversation(participants, messages[:20]).window_state,
        # The first layout, stored before the senders' own evidence was carried.
        WindowState.from_dict(
            {k: v for k, v in head.window_state.to_dict().items() if k != "responsibility"}
            | {"format": 1}
        ),
    ]
    for prior in stale:
        with whole_readings(engine) as read:
            rescored = engine.score_conversation(
                participants, messages, whole.message_scores, prior=prior
            )
        assert_identical(rescored, whole)
        assert read == [len(messages)]


def test_a_prior_that_cannot_be_these_messages_is_refused(engine: Engine) -> None:
    participants, messages = chats()[0]
    whole = engine.score_conversation(participants, messages)
    scores = whole.message_scores
    head = engine.score_conversation(participants, messages[:30], scores[:30])
    with pytest.raises(ValueError, match="prior covers 30 messages but only 20 were given"):
        engine.score_conversation(participants, messages[:20], scores[:20], prior=head.window_state)
    changed = list(scores)
    changed[28] = replace(changed[28], minor_writer=changed[28].minor_writer + 0.25)
    swapped = [*messages[:27], messages[28], messages[27], *messages[29:]]
    rounded = [MessageScore.from_dict(s.to_dict()) for s in scores]  # as stored, rounded
    for wrong_messages, wrong_scores in (
        (messages, changed),
        (swapped, [*scores[:27], scores[28], scores[27], *scores[29:]]),
        (messages, rounded),
    ):
        with pytest.raises(ValueError, match=r"messages 1-30 .* differ"):
            engine.score_conversation(
                participants, wrong_messages, wrong_scores, prior=head.window_state
            )


def test_without_monotone_trees_the_rescore_is_still_exact(engine: Engine) -> None:
    pruning = engine._window_pruning()
    engine.__dict__["_pruning"] = None  # as for trees not proven monotone
    try:
        for participants, messages in (chats()[0], chats()[40]):
            done, whole_again = check_splits(engine, participants, messages, 3)
            assert whole_again < done  # a sender new after the split: read whole
    finally:
        engine.__dict__["_pruning"] = pruning


def test_a_tenant_text_column_is_carried_too(engine: Engine) -> None:
    """A tenant's text model adds a message column (and its window features). The window
    model here is the default's, not retrained for the wider rows: what is checked is that
    both readings agree, not what they say."""
    generated = generate_conversations(24, seed=5)
    texts = [m.text for c in generated for m in c.messages]
    labels = [int(c.label == 1) for c in generated for _ in c.messages]
    groups = [c.external_id for c in generated for _ in c.messages]
    tenant = copy.copy(engine)
    tenant.__dict__ = {k: v for k, v in engine.__dict__.items() if k not in _CACHES}
    tenant.tenant_text = TenantText(random_state=0)
    tenant.tenant_text.fit(texts, labels, groups)
    assert tenant.window_fingerprint() != engine.window_fingerprint()
    for seed, (participants, messages) in enumerate((chats()[1], chats()[40], chats()[-2])):
        assert all(
            s.tenant_text is not None
            for s in tenant.score_conversation(participants, messages[:3]).message_scores
        )
        done, whole_again = check_splits(tenant, participants, messages, seed)
        assert whole_again < done


def test_a_new_sender_whose_earlier_windows_score_the_most_is_read_whole(
    engine: Engine,
) -> None:
    """A child alone writes ten lines (one saying their age) that raise nothing; then
    someone else says "ok", which raises nothing either. That newcomer's windows before
    they wrote (the child's age said, the child's way of writing) are the conversation's
    strongest, and where the first of them ends is not kept: the rescore reads it whole."""
    start = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
    lines = ["hii", "im 13", "so bored", "homework", "lol", "idk", "ugh", "ok", "hm", "yo"]
    messages = [
        Message(f"m{i}", "kid", start + timedelta(minutes=i), text)
        for i, text in enumerate([*lines, "ok"])
    ]
    messages[-1] = replace(messages[-1], sender="newcomer")
    participants = [Participant("kid"), Participant("newcomer")]
    nothing = MessageScore(scores=dict.fromkeys(KEYS, 0.0), minor_writer=0.9)
    scores = [nothing] * len(messages)
    whole = engine.score_conversation(participants, messages, scores)
    head = engine.score_conversation(participants, messages[:-1], scores[:-1])
    assert whole.window_state is not None
    assert head.window_state is not None
    assert whole.window_state.end < len(messages) - 1  # the newcomer's, before they wrote
    with whole_readings(engine) as read:
        rescored = engine.score_conversation(
            participants, messages, scores, prior=head.window_state
        )
    assert_identical(rescored, whole)
    assert read == [len(messages)]
