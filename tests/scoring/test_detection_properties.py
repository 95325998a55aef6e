"""What the real default engine guarantees over many conversations, at the default tenant
threshold of 0.5.

Two kinds of conversation are scored. Generated ones (``scoring.generator``, seed 7919: not
training's seeds 1 and 2, nor the tests' sample 4242), and hand-written ones in the style of
real chat: slang, no punctuation, long small talk, and from one adult (jay) a few mild telling
lines spread through it, answered by a child (mia) in her own words. Every floor below sits a
little under what the engine measured when this file was written (the default model as of
commit 5516f1c); the measured figure is next to it. A property the engine does not hold yet
is written anyway, as a strict xfail whose reason gives the measured numbers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from review.management.commands.seed_demo import in_progress
from review.models import Message as StoredMessage
from review.models import Participant as StoredParticipant
from review.transcript import Row, message_row
from scoring import disclosures
from scoring.characteristics import BLURRED_KEYS, KEYS
from scoring.dataset import LabelledConversation
from scoring.engine import FRIENDSHIP_CEILING, STAGE_OF, Engine
from scoring.generator import generate_conversations
from scoring.seed import load_seed_messages
from scoring.types import ConversationScore, Message, Participant
from tests.scoring_support import trained_default

THRESHOLD = 0.5  # the default tenant flag threshold
SEED = 7919
GENERATED = 240
START = datetime(2026, 11, 2, 19, 0, tzinfo=UTC)

# -- hand-written chat ------------------------------------------------------------------------
ADULT_SMALL_TALK = (
    "hey whats up", "not much just got off work", "lol nice", "did u see the game last night",
    "what u playing rn", "im so bad at that game haha", "what music u into these days",
    "that song has been stuck in my head all day", "its raining so hard here",
    "my dog keeps barking at nothing lol", "u watch anything good lately",
    "ive been binging that zombie show", "ok brb gotta eat", "back",
    "what did u have for dinner", "pasta again lol", "haha same", "thats wild", "no way", "fr",
    "i had the longest day", "traffic was insane this morning",
    "u like pizza or burgers more", "pineapple on pizza yes or no", "lmao ok",
    "wanna play a round later", "my internet keeps cutting out", "ugh mondays",
    "whats ur fav movie", "i used to love that one as a kid", "hows ur week going",
    "thats cool tho", "ya i get that", "hmm idk", "im kinda tired tbh", "gn talk tmrw",
    "morning", "did u sleep ok", "i burnt my toast lol", "that meme u sent was so funny",
    "which skin u got", "gg that was close", "u carried that round", "lets go again",
    "my phone is about to die", "ok im back", "what r u up to this weekend",
)  # fmt: skip
CHILD_SMALL_TALK = (
    "lol", "idk", "ya", "nah", "same", "haha ok", "my teacher is so annoying",
    "i have a math test tmrw", "my brother took the xbox again", "im so tired", "omg yes",
    "wbu", "cool", "i like drawing", "ok", "brb", "back", "we had pizza", "its so boring here",
    "i finished my homework finally", "my friend is mad at me", "lmaooo", "thats so funny",
    "i dont like that show", "minecraft mostly", "i got a new skin", "yea", "wait what",
    "hahaha", "i have practice later", "my cat is sleeping on my bag", "ugh school tmrw",
    "k", "sure", "i love that song", "bruh", "not rly", "maybe", "i was at my nans",
    "we lost again", "gtg dinner", "hi", "sup", "nothing much",
)  # fmt: skip
# Jay's telling lines, earliest stage first: trust, supervision, secrecy, a mild steer,
# another app, a meeting.
GROOMING_LINES = (
    "ur honestly so mature for ur age, u get me more than anyone",
    "u can tell me anything u know that right",
    "are ur parents home rn or are u alone",
    "dont tell anyone we talk ok, its just our thing",
    "u ever kissed anyone",
    "add me on snap its easier to talk there",
    "delete our chats after ok",
    "we should meet up sometime, i can pick u up after school",
)
CHILD_REPLIES = ("i dont know", "what do u mean", "idk", "lol ok", "im 13", "my mom is home")
UNDRESS_LINES = (
    "take ur hoodie off, no one will see",
    "take ur jacket off for me, no one will know",
    "send me a pic in ur pjs, i wont show anyone",
    "go in ur room and show me on cam",
)
KID_TALK = (
    "hiii", "omg did u see what jake posted", "lmaooo he's so dumb", "r u going to the party sat",
    "my mom said maybe", "ugh i have so much homework", "did u do the science worksheet",
    "no i forgot lol", "can u send me the answers to q4", "its the one about cells",
    "im 13 not 10 lol", "my sister stole my hoodie again", "lol same my brother does that",
    "wanna play roblox later", "ya after dinner", "my wifi is so bad", "brb my mom is calling",
    "back", "idk maybe my black jeans", "i got a new phone case", "ok",
    "that teacher gave us a pop quiz", "i failed it probably", "same lmao", "omg no way",
    "ur so weird haha", "gn", "gm", "im so tired today", "we have pe first", "i hate running",
    "me too",
)  # fmt: skip
# What friends of 13 say to each other that reads like grooming line by line: a secret crush,
# a promise to keep it, an age, a photo of a phone case, an outfit.
KID_SECRETS = (
    "dont tell anyone but i like sam", "i wont tell i promise", "ur literally younger than me",
    "send pic of it", "what r u wearing to the party", "its so cute",
)  # fmt: skip
FAMILY_TALK = (
    "did u get the parcel i sent", "yes thank u!!", "ur welcome, did it fit",
    "how is ur mum doing", "shes ok shes at work", "tell her i said hi", "ok",
    "are u coming for christmas", "mom said yes",
    "dont tell ur dad about the cake, its a surprise for his birthday", "lol ok i wont",
    "love u", "love u too", "ill ask ur mum", "how was the football match", "we won 3 1",
    "well done!",
)  # fmt: skip
# An aunt's warm questions to her niece that read like a groomer's probe and flattery.
AUNT_QUESTIONS = ("hey sweetie hows school going", "what do u want for ur birthday")
ADULT_FRIENDS_TALK = (
    "u on tonight", "ya after 9", "need to finish this report first", "boss is on my case",
    "lol classic", "did u fix ur pc", "new gpu arrived today", "nice what did u get",
    "the mid range one, prices are crazy", "true", "wanna run the raid later", "sure",
    "bring the good snacks", "my kid has a fever so might be late", "no worries",
    "hope shes ok", "ya just a cold", "gg last night", "that boss was brutal",
    "we wiped like 6 times", "lmao", "next time", "ok im on", "inviting u now",
)  # fmt: skip
FILLERS = ("lol", "ya", "ok", "haha", "same", "lmao", "k", "fr", "true", "idk", "nice", "omg")
LOBBY_TALK = (
    "lets go again", "gg that was close", "u carried that round", "wanna play a round later",
    "which skin u got", "lol", "my internet keeps cutting out", "gg", "one more", "ok im back",
    "again?", "lets go", "go again", "rematch", "bro what", "nice shot", "who wants to duo",
)  # fmt: skip
GREETINGS = (
    "hi", "hey", "hi 1", "hi 2", "hello", "yo", "sup", "hii", "heyyy", "hey u", "hiya", "helo",
    "hi :)", "hey whats up", "hi there",
)  # fmt: skip


def chat(lines: Sequence[tuple[str, str]], *, start: datetime = START) -> list[Message]:
    return [
        Message(f"m{i + 1}", who, start + timedelta(seconds=45 * i), text)
        for i, (who, text) in enumerate(lines)
    ]


def small_talk(
    rng: random.Random, n: int, adult: str = "jay", child: str = "mia"
) -> list[tuple[str, str]]:
    """Both sides chatting about nothing; the child a little more often."""
    return [
        (child, rng.choice(CHILD_SMALL_TALK))
        if rng.random() < 0.55
        else (adult, rng.choice(ADULT_SMALL_TALK))
        for _ in range(n)
    ]


def grooming_chat(
    seed: int,
    *,
    length: int = 320,
    telling: Sequence[str] = GROOMING_LINES,
    replies: Sequence[str] = CHILD_REPLIES,
) -> list[Message]:
    """``length`` messages of small talk with jay's telling lines spread evenly through it,
    each answered by mia with the next of ``replies``."""
    rng = random.Random(seed)
    lines = small_talk(rng, length)
    step = length // (len(telling) + 1)
    for k, text in enumerate(telling):
        at = step * (k + 1) + rng.randint(-step // 3, step // 3) + 2 * k
        lines.insert(at, ("jay", text))
        if replies:
            lines.insert(at + 1, ("mia", replies[k % len(replies)]))
    return chat(lines)


def everyday_chat(pool: Sequence[str], a: str, b: str, n: int, seed: int) -> list[Message]:
    """Two people: every line of ``pool`` once, in a shuffled order, among short fillers."""
    rng = random.Random(seed)
    distinct = list(pool)
    rng.shuffle(distinct)
    texts: list[str] = []
    while len(texts) < n:
        if distinct and rng.random() < 1.5 * len(pool) / n:
            texts.append(distinct.pop())
        else:
            texts.append(rng.choice(FILLERS))
    return chat([(a if rng.random() < 0.5 else b, text) for text in texts])


def jay_and_mia() -> list[Participant]:
    """No declared age, no account date: only the text to go by."""
    return [Participant("jay"), Participant("mia")]


def bare(participants: Sequence[Participant]) -> list[Participant]:
    return [Participant(p.external_id) for p in participants]


def with_risky_metadata(
    participants: Sequence[Participant], messages: Sequence[Message]
) -> list[Participant]:
    """Whoever writes first declares 13; everyone else's account is ten days old."""
    first, when = messages[0].sender, messages[0].sent_at
    return [
        Participant(p.external_id, declared_age=13)
        if p.external_id == first
        else Participant(p.external_id, account_created_at=when - timedelta(days=10))
        for p in participants
    ]


def append(messages: Sequence[Message], lines: Sequence[tuple[str, str]]) -> list[Message]:
    last = messages[-1].sent_at
    return [
        *messages,
        *(
            Message(f"later{k}", who, last + timedelta(seconds=30 * (k + 1)), text)
            for k, (who, text) in enumerate(lines)
        ),
    ]


def on_word_boundaries(text: str, start: int, end: int) -> bool:
    piece = text[start:end]
    return (
        bool(piece)
        and piece == piece.strip()
        and (start == 0 or text[start - 1].isspace())
        and (end == len(text) or text[end].isspace())
    )


def highlighted_texts(score: ConversationScore, messages: Sequence[Message]) -> dict[str, set[str]]:
    """The characteristics highlighted in each message, by its text."""
    by_id = {m.external_id: m.text for m in messages}
    out: dict[str, set[str]] = {}
    for h in score.highlights:
        out.setdefault(by_id[h.message_external_id], set()).add(h.characteristic)
    return out


def require(condition: bool, why: str) -> None:
    """A strict xfail's precondition: when it does not hold, the test fails outright instead
    of passing as the expected failure."""
    if not condition:
        pytest.fail(f"precondition: {why}")


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """One OpenMP thread: on a small machine the window model's trees predict several times
    faster without the threads' overhead, with the same results."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def engine() -> Engine:
    return trained_default().engine


@pytest.fixture(scope="module")
def generated() -> list[LabelledConversation]:
    return generate_conversations(GENERATED, seed=SEED)


@pytest.fixture(scope="module")
def scored(engine: Engine, generated: list[LabelledConversation]) -> dict[str, ConversationScore]:
    """Each generated conversation scored as generated, metadata included."""
    return {c.external_id: engine.score_conversation(c.participants, c.messages) for c in generated}


@pytest.fixture(scope="module")
def grooming(generated: list[LabelledConversation]) -> list[LabelledConversation]:
    return [c for c in generated if c.label == 1]


@pytest.fixture(scope="module")
def benign(generated: list[LabelledConversation]) -> list[LabelledConversation]:
    return [c for c in generated if c.label == 0]


@pytest.fixture(scope="module")
def handwritten_grooming() -> list[list[Message]]:
    """Jay and mia: over 300 messages of small talk each, eight telling lines from jay."""
    return [grooming_chat(seed) for seed in range(4)]


@pytest.fixture(scope="module")
def handwritten_benign() -> dict[str, tuple[list[Participant], list[Message]]]:
    kids, family, friends = (
        [Participant("mia"), Participant("zoe")],
        [Participant("aunt_sue"), Participant("mia")],
        [Participant("dan"), Participant("raj")],
    )
    return {
        **{f"kids {s}": (kids, everyday_chat(KID_TALK, "mia", "zoe", 220, s)) for s in range(3)},
        **{
            f"family {s}": (family, everyday_chat(FAMILY_TALK, "aunt_sue", "mia", 120, s))
            for s in range(2)
        },
        **{
            f"friends {s}": (friends, everyday_chat(ADULT_FRIENDS_TALK, "dan", "raj", 200, s))
            for s in range(2)
        },
    }


# -- 1. text alone ----------------------------------------------------------------------------
def test_text_alone_can_reach_the_threshold(
    engine: Engine, grooming: list[LabelledConversation], handwritten_grooming: list[list[Message]]
) -> None:
    without_metadata = [
        engine.score_conversation(bare(c.participants), c.messages).probability for c in grooming
    ]
    share = np.mean(np.array(without_metadata) >= THRESHOLD)

    assert len(grooming) >= 60  # measured 85 of 240
    assert share >= 0.9  # measured 1.0 (the lowest 0.57)
    for messages in handwritten_grooming:
        assert len(messages) > 300
        # measured 0.91 to 0.92, crossing 0.5 at message 28 to 44 of 336
        assert engine.score_conversation(jay_and_mia(), messages).probability >= THRESHOLD


def fast_chat(seed: int) -> list[Message]:
    """A groomer in a hurry: a hello, the child's age, then three to five of jay's telling
    lines in a row, the child answering once at most."""
    rng = random.Random(seed)
    telling = sorted(rng.sample(range(len(GROOMING_LINES)), k=rng.randint(3, 5)))
    lines = [("jay", rng.choice(ADULT_SMALL_TALK)), ("mia", rng.choice(("im 13", "13 f")))]
    lines += [("jay", GROOMING_LINES[i]) for i in telling]
    if rng.random() < 0.5:
        lines.insert(rng.randint(3, len(lines)), ("mia", rng.choice(CHILD_REPLIES)))
    return chat(lines)


def test_a_groomer_in_a_hurry_is_flagged_though_the_child_barely_answers(
    engine: Engine,
) -> None:
    """A few messages, nearly all the groomer's: the window model must not wait for a child
    who writes back (measured 0.949 to 1.0 over these 12; 0.15 to 0.999 before the
    generator had fast groomers, see scoring.generator.FAST_SHARE)."""
    for seed in range(12):
        messages = fast_chat(seed)
        assert len(messages) <= 8
        assert engine.score_conversation(jay_and_mia(), messages).probability >= THRESHOLD


# -- 2. removing metadata ---------------------------------------------------------------------
def test_removing_metadata_never_unflags(
    engine: Engine, grooming: list[LabelledConversation], scored: dict[str, ConversationScore]
) -> None:
    flagged = [c for c in grooming if scored[c.external_id].probability >= THRESHOLD]
    with_metadata = [
        c for c in flagged if any(p != Participant(p.external_id) for p in c.participants)
    ]

    assert len(with_metadata) >= 50  # measured 79 of the 85 flagged carry some metadata
    for conversation in flagged:
        without = engine.score_conversation(bare(conversation.participants), conversation.messages)
        assert without.probability == scored[conversation.external_id].probability


# -- 3. metadata alone ------------------------------------------------------------------------
def test_metadata_alone_never_flags(
    engine: Engine,
    benign: list[LabelledConversation],
    scored: dict[str, ConversationScore],
    handwritten_benign: dict[str, tuple[list[Participant], list[Message]]],
) -> None:
    quiet = [
        (c.participants, c.messages)
        for c in benign
        if scored[c.external_id].probability < THRESHOLD
    ]
    for name, (participants, messages) in handwritten_benign.items():
        before = engine.score_conversation(participants, messages).probability
        assert before < THRESHOLD, name  # measured at most 0.0054
        quiet.append((participants, messages))

    # Not vacuous: measured 149 of the 162 (155 generated benign and 7 hand-written) below.
    assert len(quiet) >= 140
    for participants, messages in quiet:
        plain = engine.score_conversation(bare(participants), messages)
        risky = engine.score_conversation(with_risky_metadata(participants, messages), messages)
        assert risky.probability == plain.probability < THRESHOLD
        # What the metadata says is shown to the moderator instead.
        assert any("13" in factor for factor in risky.factors)


# -- 4. appending small talk ------------------------------------------------------------------
def test_appending_small_talk_never_unflags(
    engine: Engine,
    grooming: list[LabelledConversation],
    benign: list[LabelledConversation],
    scored: dict[str, ConversationScore],
    handwritten_grooming: list[list[Message]],
) -> None:
    rng = random.Random(SEED)
    seed_lines = [m.text for m in load_seed_messages() if m.kind == "benign"]
    cases = []
    for c in [*grooming, *benign]:
        before = scored[c.external_id].probability
        if before >= THRESHOLD:
            people = [p.external_id for p in c.participants]
            lines = [
                (rng.choice(people), rng.choice(seed_lines)) for _ in range(rng.randint(50, 300))
            ]
            cases.append((c.participants, c.messages, lines, before))
    for messages in handwritten_grooming:
        before = engine.score_conversation(jay_and_mia(), messages).probability
        cases.append((jay_and_mia(), messages, small_talk(rng, rng.randint(50, 300)), before))

    assert len(cases) >= 70  # measured 85 generated (all grooming) and 4 hand-written
    for participants, messages, lines, before in cases:
        after = engine.score_conversation(participants, append(messages, lines)).probability
        assert after >= before


def game_lobby() -> tuple[list[Participant], list[Message], list[Message]]:
    """Jay in a game lobby of eight, with mia and six players: his eight telling lines, each
    answered by mia, among 120 lobby messages; then the lobby plays on for 1,000 more."""
    rng = random.Random(5)
    players = [f"player{i}" for i in range(6)]
    lines = [(rng.choice([*players, "mia"]), rng.choice(LOBBY_TALK)) for _ in range(120)]
    for k, text in enumerate(GROOMING_LINES):
        lines.insert(8 + 14 * k, ("jay", text))
        lines.insert(9 + 14 * k, ("mia", CHILD_REPLIES[k % len(CHILD_REPLIES)]))
    messages = chat(lines)
    later = [(rng.choice(players), rng.choice(LOBBY_TALK)) for _ in range(1000)]
    participants = [*jay_and_mia(), *(Participant(p) for p in players)]
    return participants, messages, append(messages, later)


def test_a_groomer_in_a_big_game_lobby_stays_flagged_as_the_lobby_plays_on(
    engine: Engine,
) -> None:
    participants, messages, longer = game_lobby()
    before = engine.score_conversation(participants, messages).probability
    require(before >= THRESHOLD, "jay is flagged before the lobby plays on")

    assert engine.score_conversation(participants, longer).probability >= before


# -- 5. prefixes ------------------------------------------------------------------------------
def test_probability_rises_weakly_as_grooming_accumulates(
    engine: Engine,
    grooming: list[LabelledConversation],
    scored: dict[str, ConversationScore],
    handwritten_grooming: list[list[Message]],
) -> None:
    for conversation in grooming:
        score = scored[conversation.external_id]
        prefix = engine.text_scores(conversation.messages, score.message_scores).prefix

        assert len(prefix) == len(conversation.messages)
        assert np.all(np.diff(prefix) >= 0)
        assert prefix[-1] == score.probability

    # Rescored as each message arrives, the way the pipeline does (cached scores reused).
    few = [(c.participants, c.messages) for c in grooming if len(c.messages) <= 90][:12]
    few.append((jay_and_mia(), handwritten_grooming[0][:120]))
    for participants, messages in few:
        score = engine.score_conversation(participants, messages)
        prefix = engine.text_scores(messages, score.message_scores).prefix
        again = [
            engine.score_conversation(
                participants, messages[:k], cached=score.message_scores[:k]
            ).probability
            for k in range(1, len(messages) + 1)
        ]

        assert all(b >= a for a, b in pairwise(again))
        assert np.max(np.abs(np.array(again) - prefix)) <= 1e-9
    assert len(few) == 13


def test_the_prefix_scores_of_a_big_lobby_agree_with_rescoring_each_prefix(
    engine: Engine,
) -> None:
    participants, messages, longer = game_lobby()
    score = engine.score_conversation(participants, longer)
    prefix = engine.text_scores(longer, score.message_scores).prefix
    k = len(messages)
    again = engine.score_conversation(participants, longer[:k], cached=score.message_scores[:k])
    require(again.probability >= THRESHOLD, "jay is flagged after his lines")

    assert abs(prefix[k - 1] - again.probability) <= 1e-9


def test_no_conversation_scores_above_its_strongest_message(
    engine: Engine,
    generated: list[LabelledConversation],
    scored: dict[str, ConversationScore],
    handwritten_benign: dict[str, tuple[list[Participant], list[Message]]],
) -> None:
    """Weak signals that no single message carries (nothing a moderator could be shown)
    never add up past what the strongest message says, at any point of a conversation."""
    bounded = 0
    for conversation in generated:
        score = scored[conversation.external_id]
        strongest = np.maximum.accumulate([max(m.scores.values()) for m in score.message_scores])
        prefix = engine.text_scores(conversation.messages, score.message_scores).prefix

        assert np.all(prefix <= strongest)
        assert score.probability <= strongest[-1]
        bounded += bool(np.isclose(prefix, strongest).any())
    for participants, messages in handwritten_benign.values():
        score = engine.score_conversation(participants, messages)
        assert score.probability <= max(max(m.scores.values()) for m in score.message_scores)
    assert bounded > 0  # the bound is what some generated conversations score


# -- 6. greetings -----------------------------------------------------------------------------
def test_a_lone_greeting_scores_near_zero(engine: Engine) -> None:
    new = START - timedelta(days=2)
    metadata = (
        [Participant("jay"), Participant("mia")],
        [Participant("jay", account_created_at=new), Participant("mia", declared_age=13)],
        [Participant("jay", declared_age=45, account_created_at=new),
         Participant("mia", declared_age=11)],
        [Participant("jay", declared_age=12), Participant("mia", declared_age=12)],
    )  # fmt: skip
    highest = max(
        engine.score_conversation(people, [Message("m1", sender, START, text)]).probability
        for text in GREETINGS
        for sender in ("jay", "mia")
        for people in metadata
    )

    assert highest < 0.1  # measured 1.8e-5


# -- 7. highlights ----------------------------------------------------------------------------
def test_every_highlight_starts_and_ends_on_a_word_boundary(
    engine: Engine,
    generated: list[LabelledConversation],
    scored: dict[str, ConversationScore],
    handwritten_grooming: list[list[Message]],
) -> None:
    cases = [(c.messages, scored[c.external_id]) for c in generated]
    for messages in handwritten_grooming:
        undressing = grooming_chat(7, length=200, telling=GROOMING_LINES + UNDRESS_LINES)
        for each in (messages, undressing):
            cases.append((each, engine.score_conversation(jay_and_mia(), each)))
    spans = 0
    for messages, score in cases:
        text_of = {m.external_id: m.text for m in messages}
        for highlight in score.highlights:
            text = text_of[highlight.message_external_id]
            for start, end in highlight.spans:
                spans += 1
                assert on_word_boundaries(text, start, end), (text, start, end)

    assert spans >= 1200  # measured 1,431


def test_highlights_stay_on_word_boundaries_after_a_turkish_capital_i(engine: Engine) -> None:
    # A Turkish keyboard capitalises "i" at the start of a sentence as "İ".
    messages = grooming_chat(
        1, length=120, telling=(*GROOMING_LINES[:3], "İ mean it, dont tell anyone we talk ok")
    )
    score = engine.score_conversation(jay_and_mia(), messages)
    text_of = {m.external_id: m.text for m in messages}
    require(
        any(text_of[h.message_external_id].startswith("İ") for h in score.highlights),
        "the line after the capital I is highlighted",
    )

    for highlight in score.highlights:
        text = text_of[highlight.message_external_id]
        assert all(on_word_boundaries(text, a, b) for a, b in highlight.spans), text


def review_rows(score: ConversationScore, messages: Sequence[Message]) -> dict[str, Row]:
    """The review page's row for each message, by its id, from the highlights as stored."""
    spans: dict[str, dict[str, list[list[int]]]] = {}
    scores: dict[str, dict[str, float]] = {}
    for stored in (h.to_dict() for h in score.highlights):
        spans.setdefault(stored["message"], {})[stored["characteristic"]] = stored["spans"]
        scores.setdefault(stored["message"], {})[stored["characteristic"]] = stored["score"]
    people = {who: StoredParticipant(external_id=who) for who in {m.sender for m in messages}}
    return {
        m.external_id: message_row(
            StoredMessage(
                external_id=m.external_id, sender=people[m.sender], sent_at=m.sent_at,
                utc_offset_minutes=0, text=m.text, position=i,
            ),
            highlights=spans, scores=scores, labels={}, revealed=set(),
        )
        for i, m in enumerate(messages)
    }  # fmt: skip


def with_child_replies(conversation: LabelledConversation) -> list[Message]:
    """The generated conversation with mia's kind of reply after each of the groomer's
    telling lines, sent by the child."""
    [child] = [
        p.external_id
        for p in conversation.participants
        if p.external_id not in conversation.predators
    ]
    out: list[Message] = []
    for k, (message, labels) in enumerate(
        zip(conversation.messages, conversation.message_labels, strict=True)
    ):
        out.append(message)
        if labels:
            reply = CHILD_REPLIES[k % len(CHILD_REPLIES)]
            out.append(
                Message(
                    f"{message.external_id}r", child, message.sent_at + timedelta(seconds=20), reply
                )
            )
    return out


def test_a_childs_replies_in_a_flagged_grooming_conversation_are_never_highlighted(
    engine: Engine, grooming: list[LabelledConversation], handwritten_grooming: list[list[Message]]
) -> None:
    cases = [(c.participants, with_child_replies(c), next(iter(c.predators))) for c in grooming]
    cases += [(jay_and_mia(), messages, "jay") for messages in handwritten_grooming]
    flagged = replies = 0
    for participants, messages, groomer in cases:
        score = engine.score_conversation(participants, messages)
        if score.probability < THRESHOLD:
            continue
        flagged += 1
        highlighted = {h.message_external_id for h in score.highlights}
        rows = review_rows(score, messages)
        for m in messages:
            if m.sender != groomer and m.text in CHILD_REPLIES:
                replies += 1
                assert m.external_id not in highlighted, m.text
                # The review page neither marks them nor hides them as sexual content.
                assert not rows[m.external_id].highlighted
                assert not rows[m.external_id].blurred

    assert flagged >= 70  # measured 89 of 89
    assert replies >= 500  # measured 740, none highlighted


def test_an_adult_asking_a_child_to_undress_is_highlighted_and_blurred(engine: Engine) -> None:
    for seed in range(3):
        messages = grooming_chat(seed, length=200, telling=GROOMING_LINES[:4] + UNDRESS_LINES)
        score = engine.score_conversation(jay_and_mia(), messages)
        highlighted = highlighted_texts(score, messages)
        by_id = review_rows(score, messages)
        rows = {m.text: by_id[m.external_id] for m in messages}

        assert score.probability >= THRESHOLD  # measured 0.93 to 0.97
        for line in UNDRESS_LINES:
            assert highlighted.get(line), line  # measured: media request on every one
            assert highlighted[line] & BLURRED_KEYS
            assert rows[line].highlighted
            assert rows[line].blurred


def test_a_bare_request_to_undress_is_highlighted(engine: Engine) -> None:
    bare_requests = ("lock ur door and take ur shirt off for me", "take ur hoodie off")
    messages = grooming_chat(0, length=200, telling=GROOMING_LINES[:4] + bare_requests)
    score = engine.score_conversation(jay_and_mia(), messages)
    require(score.probability >= THRESHOLD, "the conversation is flagged")

    highlighted = highlighted_texts(score, messages)
    assert all(highlighted.get(line) for line in bare_requests)


# -- 8. spread --------------------------------------------------------------------------------
def test_scores_spread_over_the_range(
    engine: Engine, grooming: list[LabelledConversation], scored: dict[str, ConversationScore]
) -> None:
    # As a grooming conversation's evidence accumulates, its score passes through the whole
    # range, so a tenant's threshold decides how early it is queued.
    prefixes = np.concatenate(
        [
            engine.text_scores(c.messages, scored[c.external_id].message_scores).prefix
            for c in grooming
        ]
    )
    assert np.count_nonzero(np.histogram(prefixes, bins=10, range=(0.0, 1.0))[0]) == 10

    # The demo's chats in progress (seed_demo) do not all score 0.99: a threshold between
    # them means something.
    demo = [in_progress(c, i) for i, c in enumerate(generate_conversations(40, seed=2026))]
    flagged = [
        engine.score_conversation(c.participants, c.messages).probability
        for c in demo
        if c.label == 1
    ]
    deciles = np.histogram(flagged, bins=10, range=(0.0, 1.0))[0]
    assert np.count_nonzero(deciles) >= 3  # measured 4: 0.02, 0.67 (twice), 0.88, 0.97-1.00
    assert min(flagged) < 0.9


# -- 9. friendship forming alone -------------------------------------------------------------
def friendship_chats(engine: Engine) -> list[list[Message]]:
    """Jay's compliments and getting-to-know-you questions (the seed's own lines of the
    first stage: trust building, personal questions) among two hundred lines of small talk,
    and nothing of a later stage: the kind of chat two teenagers who like each other have.
    Only lines that lift the ceiling on their own are left out (``past_friendship``)."""
    first_stage = {k for k in KEYS if STAGE_OF[k] == 0}
    seed = load_seed_messages()
    lines = sorted(m.text for m in seed if m.kind == "grooming" and set(m.labels) <= first_stage)
    lines = [text for text in lines if not past_friendship(engine, [text])]
    adult = [text for text in ADULT_SMALL_TALK if not past_friendship(engine, [text])]
    child = [text for text in CHILD_SMALL_TALK if not past_friendship(engine, [text])]
    chats = []
    for seed_ in range(10):
        rng = random.Random(seed_)
        talk = [
            ("mia", rng.choice(child)) if rng.random() < 0.55 else ("jay", rng.choice(adult))
            for _ in range(200)
        ]
        for text in rng.sample(lines, 14):
            talk.insert(rng.randrange(len(talk)), ("jay", text))
        chats.append(chat(talk))
    return chats


def past_friendship(engine: Engine, texts: Sequence[str]) -> bool:
    """Whether any of ``texts`` reaches the threshold of a characteristic past the first
    stage, or says in its writer's own words that they are a child: what lifts the
    ceiling."""
    scored = engine.score_messages(list(texts))
    later = [j for j, k in enumerate(KEYS) if STAGE_OF[k] > 0]
    matrix = engine.score_matrix(scored)[:, later]
    young = any(disclosures.states_minor(text) for text in texts)
    return young or bool((matrix >= engine.threshold_array()[later]).any())


def uncapped(engine: Engine, messages: Sequence[Message]) -> float:
    """What the conversation would score without the friendship ceiling."""
    scored = engine.score_messages([m.text for m in messages])
    best, _ = engine.raw_scores(messages, scored, ceiling=False)
    evidence = engine.evidence(engine.score_matrix(scored))
    return float(engine.bounded(np.maximum.accumulate(best), evidence)[-1])


def test_friendship_forming_alone_stays_below_even_odds(
    engine: Engine, generated: list[LabelledConversation], scored: dict[str, ConversationScore]
) -> None:
    """Compliments and questions are what friends and teenage couples say too: a
    conversation with nothing past O'Connell's first stage never reaches FRIENDSHIP_CEILING,
    generated ones (grooming and benign alike) and hand-written ones."""
    chats = friendship_chats(engine)
    above = [c for c in chats if uncapped(engine, c) > FRIENDSHIP_CEILING]
    require(len(above) >= 3, f"only {len(above)} chats would score above the ceiling without it")

    for messages in chats:
        assert not past_friendship(engine, [m.text for m in messages])
        assert engine.score_conversation(jay_and_mia(), messages).probability <= FRIENDSHIP_CEILING
    held = [c for c in generated if not past_friendship(engine, [m.text for m in c.messages])]
    assert len(held) >= 20
    assert max(scored[c.external_id].probability for c in held) <= FRIENDSHIP_CEILING


def test_flattery_aimed_at_someone_who_says_they_are_a_child_counts_in_full(
    engine: Engine,
) -> None:
    """Once mia says she is 13, jay's compliments and questions are no longer what peers
    say to each other: the ceiling is lifted, and the chats it held score above it."""
    held = [c for c in friendship_chats(engine) if uncapped(engine, c) > FRIENDSHIP_CEILING]
    require(len(held) >= 3, "too few chats held by the ceiling")
    for messages in held:
        said = [Message("age", "mia", messages[0].sent_at - timedelta(seconds=30), "im 13"),
                *messages]  # fmt: skip

        assert engine.score_conversation(jay_and_mia(), said).probability > FRIENDSHIP_CEILING


def test_a_later_stage_line_lifts_the_ceiling_and_the_fast_paths_agree(engine: Engine) -> None:
    """One line of a later stage (secrecy) lifts the ceiling; and the strongest-window
    search and a rescore from a prior still give what rating every window gives."""
    for messages in friendship_chats(engine)[:4]:
        secret = append(messages, [("jay", "dont tell anyone we talk ok, its just our thing")])
        before = engine.score_conversation(jay_and_mia(), messages)
        after = engine.score_conversation(jay_and_mia(), secret)

        assert after.probability >= before.probability
        assert past_friendship(engine, [m.text for m in secret]) or (
            after.probability <= FRIENDSHIP_CEILING
        )
        for conversation in (messages, secret):
            scores = engine.score_messages([m.text for m in conversation])
            every = engine.text_scores(conversation, scores)
            assert engine.strongest(conversation, scores).probability == float(every.prefix[-1])
        head = engine.score_conversation(jay_and_mia(), secret[:-30], after.message_scores[:-30])
        rescored = engine.score_conversation(
            jay_and_mia(), secret, after.message_scores, prior=head.window_state
        )
        assert rescored.probability == after.probability


# -- ordinary chat ----------------------------------------------------------------------------
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="ordinary chat with a few lines that read like grooming one by one flags: "
    "measured two 13-year-old friends (a secret crush, a promise, 'ur literally younger "
    "than me', a phone-case photo) 0.74, 0.85, 0.61 and 0.53 over four orderings, and an "
    "aunt asking her niece about school and her birthday 0.83, 0.83, 0.35 and 0.49 (without "
    "those few lines: 0.0054 at most)",
)
def test_friends_of_13_and_an_aunt_with_her_niece_stay_below_the_threshold(
    engine: Engine,
) -> None:
    conversations = [
        ([Participant("mia"), Participant("zoe")],
         everyday_chat(KID_TALK + KID_SECRETS, "mia", "zoe", 220, seed))
        for seed in range(4)
    ] + [
        ([Participant("aunt_sue"), Participant("mia")],
         everyday_chat(FAMILY_TALK + AUNT_QUESTIONS, "aunt_sue", "mia", 120, seed))
        for seed in range(4)
    ]  # fmt: skip
    probabilities = [engine.score_conversation(*c).probability for c in conversations]

    assert max(probabilities) < THRESHOLD
