"""The engine's fast paths say exactly what the plain readings say: a conversation scored by
rating only the windows that can be its strongest, against rating every window; window
features for all senders at once, against reading each window on its own; messages scored
in a batch, against one at a time; a conversation rescored from cached message scores,
against scoring it whole. Exact equality, never approximate: a speed-up may not move a
score, a flag or a highlight."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest
from scipy.special import expit

from scoring.artifacts import dump_engine, load_engine_bytes
from scoring.characteristics import KEYS
from scoring.engine import _CACHES, TOP, WINDOW, Engine, _Forest, _window_top, sender_windows
from scoring.generator import generate_conversations
from scoring.types import Message, Participant
from tests.scoring_support import trained_default

Chat = tuple[list[Participant], list[Message]]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return trained_default().engine


@cache
def chats() -> tuple[Chat, ...]:
    """Generated conversations (seed 31, none of training's), plus ones they do not hold:
    a group chat of two conversations interleaved, a long one of eight back to back, and a
    single line."""
    generated = generate_conversations(40, seed=31)
    out = [(list(c.participants), list(c.messages)) for c in generated]
    a, b = generated[0], generated[1]
    group = [
        *a.messages,
        *(replace(m, sender=f"g-{m.sender}", external_id=f"g-{m.external_id}") for m in b.messages),
    ]
    group.sort(key=lambda m: m.sent_at)
    out.append(([*a.participants, *(replace(p, external_id=f"g-{p.external_id}")
                                    for p in b.participants)], group))  # fmt: skip
    long = [
        replace(m, external_id=f"{k}-{m.external_id}")
        for k, c in enumerate(generated[2:10])
        for m in c.messages
    ]
    out.append(([p for c in generated[2:10] for p in c.participants], long))
    out.append((list(a.participants), list(a.messages[:1])))
    return tuple(out)


def test_the_window_models_are_monotone_so_the_fast_path_runs(engine: Engine) -> None:
    assert all(forest.monotone() for forest in engine._forests())
    assert engine._window_pruning() is not None


def test_a_conversation_scores_as_rating_every_window_says(engine: Engine) -> None:
    for _, messages in chats():
        scored = engine.score_messages([m.text for m in messages])
        every = engine.text_scores(messages, scored)

        fast = engine.strongest(messages, scored)

        assert fast.probability == float(every.prefix[-1])
        assert fast.by_sender == every.by_sender
        assert fast.strongest_end == every.strongest_end


def test_without_monotone_trees_every_window_is_rated(engine: Engine) -> None:
    _, messages = chats()[-3]  # the group chat
    scored = engine.score_messages([m.text for m in messages])
    fast = engine.strongest(messages, scored)
    pruning = engine._window_pruning()
    engine.__dict__["_pruning"] = None  # as for trees not proven monotone
    try:
        plain = engine.strongest(messages, scored)
    finally:
        engine.__dict__["_pruning"] = pruning

    assert plain == fast


def test_window_features_match_reading_each_window_on_its_own(engine: Engine) -> None:
    for _, messages in chats()[-3:-1]:  # the group chat and the long one
        scored = engine.score_messages([m.text for m in messages])
        matrix = engine.score_matrix(scored)
        windows = sender_windows(messages, matrix, engine.threshold_array())
        for sender, rows in windows.items():
            own = np.where(np.array([m.sender == sender for m in messages])[:, None], matrix, 0)
            padded = np.vstack([np.zeros((WINDOW - 1, own.shape[1])), own])
            for end in range(len(messages)):
                window = padded[end : end + WINDOW]
                top = -np.sort(-window, axis=0)[:TOP].T  # characteristics x TOP
                assert np.array_equal(rows[end, : len(KEYS)], top[:, 0])
                assert np.array_equal(rows[end, len(KEYS) : 2 * len(KEYS)], top.mean(axis=1))
                counts = window[WINDOW - min(WINDOW, end + 1) :] >= engine.threshold_array()
                assert np.array_equal(
                    rows[end, 2 * len(KEYS) : 3 * len(KEYS)],
                    np.minimum(counts.sum(axis=0), 5) / 5,
                )


def test_messages_score_the_same_in_a_batch_as_one_at_a_time(engine: Engine) -> None:
    texts = [m.text for _, messages in chats()[:6] for m in messages]

    batch = engine.score_messages(texts)

    assert batch == [engine.score_messages([text])[0] for text in texts]


def test_a_rescore_from_cached_message_scores_equals_scoring_whole(engine: Engine) -> None:
    for participants, messages in chats():
        whole = engine.score_conversation(participants, messages)
        kept = len(messages) // 2
        cached = [*whole.message_scores[:kept], *[None] * (len(messages) - kept)]

        assert engine.score_conversation(participants, messages, cached) == whole


def test_every_way_of_reading_the_trees_gives_the_same_raw_scores(engine: Engine) -> None:
    _, messages = chats()[-2]  # the long one, many senders
    scored = engine.score_messages([m.text for m in messages])
    rows = np.vstack(list(engine._windows(messages, scored).values()))
    forests = engine._forests()

    by_forest = [forest.raw(rows) for forest in forests]  # in chunks of _Forest.CHUNK rows
    walked = [forest._walk(rows) for forest in forests]
    together = engine.raw_window_scores(rows[: _Forest.CHUNK], ceiling=False)  # in one pass

    assert len(rows) > _Forest.CHUNK
    assert all(np.array_equal(a, b) for a, b in zip(by_forest, walked, strict=True))
    total = by_forest[0]
    for raw in by_forest[1:]:
        total = total + raw
    assert np.array_equal(together, expit(total[: _Forest.CHUNK] / len(forests)))
    saved = dump_engine(engine)  # caches, never in the artifact
    loaded = load_engine_bytes(saved.data, expected_sha256=saved.sha256)
    assert not set(_CACHES) & set(loaded.__dict__)


def test_a_rescores_few_new_windows_are_sorted_to_the_merges_values() -> None:
    """_window_top sorts a rescore's few new windows and merges runs for many: the same
    order statistics to the bit, with ties, zeros before the first message and a missing
    value (which makes it merge)."""
    rng = np.random.default_rng(11)
    for n in (1, 7, 49, 50, 51, 60, 137, 400):
        scores = np.round(rng.random((3, n, len(KEYS) + 1)), 2)  # rounded: many ties
        scores[0, :: max(1, n // 5)] = 0.0
        whole = _window_top(scores)
        assert whole.shape == (3, n, len(KEYS) + 1, TOP)
        for start in sorted({1, n // 2, n - 3, n - 1} - {0}):
            if start <= 0:
                continue
            part = _window_top(scores, start)
            assert part.tobytes() == whole[:, start:].tobytes(), (n, start)
        if n > 8:
            scores[1, n - 2, 3] = np.nan
            with_nan = _window_top(scores)
            assert _window_top(scores, n - 1).tobytes() == with_nan[:, n - 1 :].tobytes()
