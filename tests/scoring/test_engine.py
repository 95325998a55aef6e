"""The engine on real trained models: scores, spans, factors, incremental rescoring."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from scoring.artifacts import dump_engine, load_engine_bytes
from scoring.characteristics import KEYS
from scoring.engine import (
    _CACHES,
    FEATURE_NAMES,
    FRIENDSHIP_CEILING,
    HIGHLIGHT_FLOOR,
    HIGHLIGHT_SCORE,
    SUSPECT_TIE,
    Engine,
    _Forest,
    sender_windows,
    suspects_ranked,
)
from scoring.types import Message, Participant
from tests.scoring_support import (
    benign_conversation,
    grooming_conversation,
    grooming_conversations,
    trained_default,
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return trained_default().engine


def chat(*lines: tuple[str, str]) -> list[Message]:
    start = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
    return [
        Message(f"m{i}", who, start + timedelta(minutes=i), text)
        for i, (who, text) in enumerate(lines)
    ]


def test_every_score_is_a_probability(engine: Engine) -> None:
    [score] = engine.score_messages(["dont tell your mom we talk"])

    assert set(score.scores) == set(KEYS)
    assert all(0.0 <= v <= 1.0 for v in score.scores.values())


def test_a_secrecy_request_is_highlighted_on_the_words_that_ask_for_it(engine: Engine) -> None:
    text = "ok but dont tell your mom about this"
    [score] = engine.score_messages([text])

    assert "secrecy_request" in score.spans
    highlighted = " ".join(text[a:b] for a, b in score.spans["secrecy_request"])
    assert "tell" in highlighted


def test_a_plain_message_has_no_highlight(engine: Engine) -> None:
    [score] = engine.score_messages(["did you finish the science homework"])

    assert score.spans == {}


def test_a_grooming_conversation_scores_higher_than_a_benign_one(engine: Engine) -> None:
    grooming, benign = grooming_conversation(), benign_conversation()

    high = engine.score_conversation(grooming.participants, grooming.messages)
    low = engine.score_conversation(benign.participants, benign.messages)

    assert high.probability > 0.5 > low.probability
    assert high.factors
    assert max(high.suspect_scores, key=high.suspect_scores.get) in grooming.predators


def test_factors_explain_in_words_a_moderator_reads(engine: Engine) -> None:
    people = [Participant("kid", declared_age=13), Participant("adult", declared_age=31)]
    # The text shows the child (her age in her words, her replies), as the engine needs:
    # the declared ages alone no longer make the adult a suspect.
    messages = chat(
        ("adult", "hey how old are you"),
        ("kid", "im 13 wbu"),
        ("adult", "are your parents home"),
        ("kid", "no my mum is at work"),
        ("adult", "dont tell your parents we talk ok"),
        ("kid", "ok"),
        ("adult", "add me on snap"),
        ("kid", "why"),
        ("adult", "lets meet at the park saturday"),
        ("kid", "idk lol"),
    )

    result = engine.score_conversation(people, messages)

    # The adult's own words raise the score, so their characteristics are explained...
    assert result.suspect_scores["adult"] >= HIGHLIGHT_FLOOR
    text = "\n".join(result.factors)
    assert "Secrecy request" in text
    assert "from adult" in text
    assert "kid says they are a child" in text
    # ...and the declared ages are shown, as a factor, not as part of the probability.
    assert "Declared ages 13 and 31" in text
    # The local time's offset as the transcript writes it (UTC-07:00), not as %z does.
    assert re.search(r"first at \d\d:\d\d on \d\d \w+ \(UTC[+-]\d\d:\d\d\)", text), text
    undeclared = engine.score_conversation([Participant("kid"), Participant("adult")], messages)
    assert undeclared.probability == result.probability
    assert not any("Declared ages" in line for line in undeclared.factors)


def test_responsibility_is_the_evidence_in_a_participants_own_messages(engine: Engine) -> None:
    people = [Participant("kid"), Participant("adult")]
    messages = chat(
        ("adult", "hey how old are you"),
        ("kid", "im 13 wbu"),
        ("adult", "dont tell your parents we talk ok"),
        ("kid", "why would i tell them"),
        ("adult", "add me on snap"),
        ("kid", "ok"),
        ("adult", "lets meet at the park saturday, just us"),
        ("kid", "idk lol"),
    )

    result = engine.score_conversation(people, messages)

    expected = {"kid": 0.0, "adult": 0.0}
    for message, score in zip(messages, result.message_scores, strict=True):
        strongest = max(score.scores.values())
        if strongest >= HIGHLIGHT_SCORE:
            expected[message.sender] += strongest
    assert result.responsibility == pytest.approx(expected)
    assert result.responsibility["adult"] > result.responsibility["kid"]
    assert suspects_ranked(result.suspect_scores, result.responsibility)[0] == "adult"


def test_the_predator_is_ranked_most_responsible_in_every_generated_grooming_chat(
    engine: Engine,
) -> None:
    conversations = grooming_conversations(12)
    assert len(conversations) == 12

    for conversation in conversations:
        result = engine.score_conversation(conversation.participants, conversation.messages)
        ranked = suspects_ranked(result.suspect_scores, result.responsibility)
        assert ranked[0] in conversation.predators, conversation.external_id


def test_own_evidence_decides_between_participants_the_score_cannot_tell_apart() -> None:
    # The child's replies rate as high as the adult's windows; what each wrote decides.
    assert suspects_ranked({"kid": 0.9, "adult": 0.85}, {"kid": 0.6, "adult": 2.5}) == [
        "adult",
        "kid",
    ]
    # Past SUSPECT_TIE the score decides, whatever the messages held: a child's many
    # anxious replies do not make her the suspect.
    clear = 1.0 - SUSPECT_TIE - 0.01
    assert suspects_ranked({"kid": clear, "adult": 1.0}, {"kid": 5.0, "adult": 1.0})[0] == "adult"
    # No evidence recorded (an assessment made before it was): the score decides.
    assert suspects_ranked({"kid": 0.2, "adult": 0.7}, {}) == ["adult", "kid"]
    assert suspects_ranked({"kid": 0.65, "adult": 0.7}, {})[0] == "adult"
    # A full tie is broken by the platform id, so the same assessment always names the same.
    assert suspects_ranked({"b": 0.5, "a": 0.5}, {}) == ["b", "a"]
    assert suspects_ranked({}, {}) == []


def test_only_new_messages_go_through_the_message_model(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = grooming_conversation(min_messages=20)
    full = engine.score_conversation(conversation.participants, conversation.messages)
    cached = list(full.message_scores[:15]) + [None] * (len(conversation.messages) - 15)
    seen: list[str] = []
    original = Engine.score_messages
    # Patched on the class: undoing a patch on an instance leaves a bound method in its
    # __dict__, which would change the pickled artifact of the shared engine.
    monkeypatch.setattr(
        Engine, "score_messages", lambda self, texts: seen.extend(texts) or original(self, texts)
    )

    incremental = engine.score_conversation(
        conversation.participants, conversation.messages, cached
    )

    assert seen == [m.text for m in conversation.messages[15:]]
    assert incremental.probability == pytest.approx(full.probability)
    assert incremental.highlights == full.highlights


def test_an_empty_conversation_scores_without_error(engine: Engine) -> None:
    result = engine.score_conversation([], [])

    assert 0.0 <= result.probability < 0.5
    assert result.highlights == []


def test_cached_scores_must_line_up_with_the_messages(engine: Engine) -> None:
    with pytest.raises(ValueError, match="aligned"):
        engine.score_conversation([], chat(("a", "hi")), [None, None])


@pytest.mark.parametrize(
    "account_days",
    [1, 31, 365],
)
def test_a_one_message_greeting_scores_near_zero_however_new_the_account(
    engine: Engine, account_days: int
) -> None:
    [message] = chat(("u-2", "hi 1"))
    participants = [
        Participant("u-1", declared_age=13),
        Participant("u-2", account_created_at=message.sent_at - timedelta(days=account_days)),
    ]

    result = engine.score_conversation(participants, [message])

    # The sender's window features, to say what the window model read when this fails.
    scored = result.message_scores
    matrix, writer = engine.score_matrix(scored), engine.writer_array(scored)
    row = sender_windows([message], matrix, engine.threshold_array(), writer)["u-2"][-1]
    shown = {name: round(float(v), 4) for name, v in zip(FEATURE_NAMES, row, strict=True) if v}
    assert result.probability < 0.1, f"p={result.probability:.4f} features={shown}"


def test_the_flat_forest_rates_windows_exactly_as_scikit_learn_does(engine: Engine) -> None:
    conversation = grooming_conversation()
    scored = engine.score_messages([m.text for m in conversation.messages])
    windows = sender_windows(
        conversation.messages,
        engine.score_matrix(scored),
        engine.threshold_array(),
        engine.writer_array(scored),
    )
    rng = np.random.default_rng(5)
    rows = np.vstack([*windows.values(), rng.random((200, engine.feature_count)) ** 3])
    rows[0, 0] = np.nan  # a missing value takes the side the tree learnt for it
    assert engine.window_model is not None

    expected = engine.window_model._raw_predict(rows, n_threads=1)[:, 0]

    assert np.array_equal(_Forest(engine.window_model).raw(rows), expected)
    saved = dump_engine(engine)  # the flat forest is a cache: never in the artifact
    assert "_forest" not in load_engine_bytes(saved.data, expected_sha256=saved.sha256).__dict__


@pytest.mark.parametrize(
    "calibration",
    [None, (1.0, 0.0), (3.7, -1.2), (1e-3, 2.0), (1e-3, -2.0), (50.0, 30.0)],
    ids=["trained", "identity", "steep", "flat-above", "flat-below", "extreme"],
)
def test_the_friendship_ceilings_raw_score_calibrates_to_it_at_most(
    engine: Engine, calibration: tuple[float, float] | None
) -> None:
    """The raw score friendship-only windows are held at calibrates to FRIENDSHIP_CEILING
    or less, and is the highest that does where one can; a calibration too flat to come
    down to the ceiling holds them at the lowest raw score, found at once."""
    other = copy.copy(engine)
    other.__dict__ = {k: v for k, v in engine.__dict__.items() if k not in _CACHES}
    if calibration is not None:
        other.calibration = calibration

    raw = other._raw_ceiling()

    assert 0.0 <= raw <= 1.0
    assert float(other.calibrate(raw)) <= FRIENDSHIP_CEILING or raw == 0.0
    above = min(1.0, raw + 1e-9)
    assert float(other.calibrate(above)) > FRIENDSHIP_CEILING - 1e-6 or above == 1.0
