"""A seeded, deterministic generator of labelled chat conversations for training, demo data
and tests. Texts come from the seed corpus (scoring/data), so the generator exercises it; the
replies and small talk below were written for this project. Same seed, same output.

Grooming conversations move through O'Connell-style stages (friendship and probing, trust,
risk assessment and exclusivity, secrecy, sexual/incentive stage, then moving off-platform or
meeting) over hours or days, in evening bursts in the child's local time, with the child
replying. Benign conversations cover many topics; hard negatives are benign conversations
that contain lines which look like a characteristic on the surface.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from scoring.dataset import LabelledConversation
from scoring.seed import SeedMessage, load_seed_messages
from scoring.types import Message, Participant

STAGES: tuple[tuple[str, ...], ...] = (
    ("personal_info_probe", "trust_building"),
    ("trust_building", "age_gap_normalisation", "personal_info_probe"),
    ("supervision_check", "exclusivity_isolation", "trust_building"),
    ("secrecy_request", "exclusivity_isolation", "supervision_check"),
    ("sexual_content", "media_request", "gifts_incentives"),
    ("pressure_coercion", "media_request", "platform_migration"),
    ("platform_migration", "meeting_arrangement", "secrecy_request"),
)

CHILD_REPLIES = (
    "idk",
    "lol",
    "ok",
    "maybe",
    "haha",
    "my mom is home",
    "i have school tmrw",
    "why",
    "thats weird",
    "i guess",
    "not sure",
    "ok but why",
    "hmm",
    "yeah",
    "no",
    "i dont know",
    "i have to go soon",
    "my dad is calling me",
    "lol ur funny",
    "thanks",
    "really?",
    "k",
    "im not allowed",
    "i cant rn",
    "maybe later",
    "umm ok",
    "what do u mean",
    "brb dinner",
    "ok i guess",
    "im kinda scared",
    "do u promise",
    "that's nice",
    "sure",
    "haha stop",
    "i have homework",
    "ur sweet",
    "i dont have that app",
    "my phone is almost dead",
    "i need to ask my mom",
    "nah",
    "wait what",
    "i'm 13",
    "i live near the park",
    "omg",
)
NAMES = (
    "Alex",
    "Sam",
    "Jordan",
    "Riley",
    "Casey",
    "Taylor",
    "Jamie",
    "Morgan",
    "Robin",
    "Charlie",
    "Mia",
    "Leo",
    "Noah",
    "Emma",
    "Lily",
    "Max",
    "Zoe",
    "Ben",
    "Ava",
    "Finn",
    "Ella",
    "Kai",
)
OFFSETS = (-480, -420, -360, -300, -240, 0, 60, 60, 120, 180, 330, 480, 600)


def _pools(
    seed_messages: Sequence[SeedMessage],
) -> tuple[dict[str, list[SeedMessage]], list[SeedMessage], list[SeedMessage]]:
    by_label: dict[str, list[SeedMessage]] = {}
    benign, hard = [], []
    for message in seed_messages:
        if message.kind == "grooming":
            for label in message.labels:
                by_label.setdefault(label, []).append(message)
        elif message.kind == "hard_negative":
            hard.append(message)
        else:
            benign.append(message)
    return by_label, benign, hard


class _Clock:
    """Evening bursts in a local offset: seconds between messages, hours between sessions."""

    def __init__(self, rng: random.Random, start: datetime, offset_minutes: int) -> None:
        self.rng = rng
        self.tz = timezone(timedelta(minutes=offset_minutes))
        local = start.astimezone(self.tz)
        self.now = local.replace(
            hour=rng.choice((16, 17, 18, 19, 20, 21)), minute=rng.randrange(60)
        )

    def tick(self) -> datetime:
        self.now += timedelta(seconds=self.rng.randint(8, 150))
        return self.now

    def new_session(self) -> None:
        gap_hours = self.rng.choice((3, 5, 20, 22, 24, 26, 46, 70))
        self.now += timedelta(hours=gap_hours, minutes=self.rng.randrange(60))
        if not 15 <= self.now.hour <= 23:  # keep sessions after school, into the night
            self.now = self.now.replace(hour=self.rng.choice((17, 19, 21, 22)))


def _participants(
    rng: random.Random, index: int, *, groomer: bool, start: datetime
) -> list[Participant]:
    a, b = f"u{index}-a", f"u{index}-b"
    if groomer:
        child_age = rng.randint(11, 15)
        adult_age = rng.choice((None, None, rng.randint(15, 17), rng.randint(19, 45)))
        return [
            Participant(
                a,
                declared_age=adult_age,
                account_created_at=start - timedelta(days=rng.randint(1, 60)),
            ),
            Participant(
                b,
                declared_age=child_age,
                account_created_at=start - timedelta(days=rng.randint(90, 900)),
            ),
        ]
    peer = rng.random() < 0.5
    ages = (
        (rng.randint(11, 16), rng.randint(11, 16))
        if peer
        else (rng.randint(18, 60), rng.randint(18, 60))
    )
    return [
        Participant(p, declared_age=age if rng.random() < 0.7 else None,
                    account_created_at=start - timedelta(days=rng.randint(10, 1500)))
        for p, age in zip((a, b), ages, strict=True)
    ]  # fmt: skip


def _grooming(
    rng: random.Random,
    index: int,
    start: datetime,
    platform: str,
    by_label: dict[str, list[SeedMessage]],
    benign: list[SeedMessage],
) -> LabelledConversation:
    people = _participants(rng, index, groomer=True, start=start)
    groomer, child = people[0].external_id, people[1].external_id
    clock = _Clock(rng, start, rng.choice(OFFSETS))
    # Some groomers are caught early (two stages, mostly small talk), some late.
    last_stage = rng.choice((1, 2, 3, 4, 5, 6, 6))
    small_talk = rng.uniform(0.3, 0.85)
    stages = [s for s in range(len(STAGES)) if s <= last_stage and (s < 2 or rng.random() < 0.8)]
    messages: list[Message] = []
    labels: list[frozenset[str]] = []

    def say(sender: str, text: str, tags: frozenset[str]) -> None:
        messages.append(Message(f"m{len(messages) + 1}", sender, clock.tick(), text))
        labels.append(tags)

    for n, stage in enumerate(stages):
        if n and rng.random() < 0.6:
            clock.new_session()
        for _ in range(rng.randint(1, 4)):
            while rng.random() < small_talk:
                say(groomer, rng.choice(benign).text, frozenset())
                if rng.random() < 0.6:
                    say(child, rng.choice(benign).text, frozenset())
            key = rng.choice(STAGES[stage])
            pick = rng.choice(by_label[key])
            say(groomer, pick.text, pick.labels)
            for _ in range(rng.choice((0, 1, 1, 1, 2))):
                text = rng.choice(CHILD_REPLIES) if rng.random() < 0.7 else rng.choice(benign).text
                say(child, text, frozenset())
    return LabelledConversation(
        f"gen-{index}", platform, people, messages, labels, 1, frozenset({groomer}), "grooming"
    )


def _benign(
    rng: random.Random,
    index: int,
    start: datetime,
    platform: str,
    benign: list[SeedMessage],
    hard: list[SeedMessage] | None,
) -> LabelledConversation:
    people = _participants(rng, index, groomer=False, start=start)
    clock = _Clock(rng, start, rng.choice(OFFSETS))
    length = rng.choice((5, 8, 12, 20, 30, 45, 60, 90, 120))
    insert_hard = (
        set(rng.sample(range(length), k=min(length, rng.randint(2, 5)))) if hard else set()
    )
    messages = []
    for k in range(length):
        if k and rng.random() < 0.05:
            clock.new_session()
        pool = hard if k in insert_hard and hard else benign
        # Mostly turn-taking, sometimes two in a row from the same person.
        sender = people[k % 2 if rng.random() < 0.8 else (k + 1) % 2].external_id
        messages.append(Message(f"m{k + 1}", sender, clock.tick(), rng.choice(pool).text))
    kind = "hard_negative" if hard else "benign"
    return LabelledConversation(
        f"gen-{index}", platform, people, messages, [frozenset()] * length, 0, frozenset(), kind
    )


def generate_conversations(
    n: int,
    *,
    seed: int,
    grooming_share: float = 0.35,
    hard_negative_share: float = 0.25,
    start: datetime | None = None,
    platform: str = "demo-chat",
    seed_messages: Sequence[SeedMessage] | None = None,
) -> list[LabelledConversation]:
    """``n`` conversations; pass ``seed_messages`` (a subset of the corpus) to build training
    and test conversations from disjoint texts."""
    if not 0 <= grooming_share + hard_negative_share <= 1:
        raise ValueError("grooming_share + hard_negative_share must be between 0 and 1")
    rng = random.Random(seed)
    by_label, benign, hard = _pools(
        seed_messages if seed_messages is not None else load_seed_messages()
    )
    missing = [key for stage in STAGES for key in stage if not by_label.get(key)]
    if missing or not benign or not hard:
        raise ValueError(
            "seed messages lack examples for: "
            + (", ".join(sorted(set(missing))) or "benign or hard-negative lines")
        )
    base = start or datetime(2026, 9, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        when = base + timedelta(days=rng.randint(0, 60), minutes=rng.randrange(1440))
        draw = rng.random()
        if draw < grooming_share:
            out.append(_grooming(rng, i, when, platform, by_label, benign))
        elif draw < grooming_share + hard_negative_share:
            out.append(_benign(rng, i, when, platform, benign, hard))
        else:
            out.append(_benign(rng, i, when, platform, benign, None))
    return out
