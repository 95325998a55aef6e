"""A seeded, deterministic generator of labelled chat conversations for training, demo data
and tests. Texts come from the seed corpus (scoring/data), so the generator exercises it; the
replies and small talk below were written for this project. Same seed, same output.

Built to look like real chat, not like a textbook (the first generator taught the model
its own shortcuts, and real chat got nothing right):

- **Grooming is thin.** A grooming conversation runs from a dozen to several hundred
  messages, mostly small talk from both sides; the groomer's telling lines are few, spread
  out or in a burst, moving through O'Connell-style stages (friendship and probing, trust,
  risk assessment and exclusivity, secrecy, the sexual or incentive stage, then moving
  off-platform or meeting). The child answers in the child's own words. Some groomers
  (``FAST_SHARE``) are in a hurry: a handful of messages, nearly all theirs.
- **Benign chat is varied and sometimes looks bad.** Technical help channels with several
  people, gaming, school friends, adults' everyday chat, and adults flirting with each other
  (hard negatives: the same surface words as grooming, between adults).
- **Metadata is drawn independently of the label.** Most participants declare no age and
  have no account date; when they do, a declared child is as likely in a benign conversation
  as in a grooming one, and a new account as likely on a friend as on a groomer. A model
  trained here cannot learn that metadata decides.

Seed lines carry their domain in their ``group`` (``tech:12``, ``child:3``...): the pools
below are built from it, so a domain's lines come from the seed file like every other text.
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


# Domains of benign seed lines, by the prefix of their group (see scoring/data/build_seed.py).
BENIGN_DOMAINS = ("tech", "gaming", "school", "adult", "anon", "caring", "fragments", "everyday")
CHILD_DOMAINS = ("child", "school", "fragments", "gaming")
GROUP_CHAT_DOMAINS = frozenset({"tech", "gaming"})
# Lengths of conversations, in messages: real chat has many short and a long tail.
GROOMING_LENGTHS = (12, 20, 30, 45, 60, 90, 120, 180, 250, 400, 600)
BENIGN_LENGTHS = (3, 5, 8, 12, 20, 30, 45, 60, 90, 120, 180, 250, 400)
OFFSETS = (-480, -420, -360, -300, -240, 0, 60, 60, 120, 180, 330, 480, 600)


# How people say their age in chat; the generator writes these in, so the window model
# sees children say their age in benign chat and in grooming alike, and adults say theirs.
AGE_LINES = (
    "im {age}", "{age} {sex}", "i'm {age} lol", "{age}/{sex}", "im {age} why", "{age} {sex} u?",
    "i am {age}", "im {age} u", "{age}", "lol im {age}", "{age} yo",
)  # fmt: skip
TEEN_DOMAINS = frozenset({"school", "gaming"})


def _say_age(
    rng: random.Random, messages: list[Message], candidates: Sequence[int], age: int
) -> None:
    """Replace one of the messages at ``candidates`` with its sender saying their age."""
    if not candidates:
        return
    i = rng.choice(candidates)
    text = rng.choice(AGE_LINES).format(age=age, sex=rng.choice("fm"))
    messages[i] = Message(messages[i].external_id, messages[i].sender, messages[i].sent_at, text)


class _Pools:
    def __init__(self, seed_messages: Sequence[SeedMessage]) -> None:
        self.by_label: dict[str, list[SeedMessage]] = {}
        self.hard: list[SeedMessage] = []
        self.flirting: list[SeedMessage] = []
        self.domains: dict[str, list[SeedMessage]] = {}
        for message in seed_messages:
            domain = message.group.split(":", 1)[0]
            if message.kind == "grooming":
                for label in message.labels:
                    self.by_label.setdefault(label, []).append(message)
            elif message.kind == "hard_negative":
                (self.flirting if domain == "flirting" else self.hard).append(message)
            else:
                self.domains.setdefault(
                    domain if domain in BENIGN_DOMAINS or domain == "child" else "everyday", []
                ).append(message)
        self.benign = [m for pool in self.domains.values() for m in pool]
        missing = [key for stage in STAGES for key in stage if not self.by_label.get(key)]
        if missing or not self.benign or not (self.hard or self.flirting):
            raise ValueError(
                "seed messages lack examples for: "
                + (", ".join(sorted(set(missing))) or "benign or hard-negative lines")
            )

    def domain(self, rng: random.Random, names: Sequence[str]) -> list[SeedMessage]:
        present = [n for n in names if self.domains.get(n)]
        return self.domains[rng.choice(present)] if present else self.benign


class _Clock:
    """Bursts of messages seconds apart, sessions hours or days apart, in a local offset."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.now = start.astimezone(timezone(timedelta(minutes=rng.choice(OFFSETS))))

    def tick(self) -> datetime:
        self.now += timedelta(seconds=self.rng.randint(3, 240))
        return self.now

    def maybe_new_session(self, chance: float) -> None:
        if self.rng.random() < chance:
            self.now += timedelta(hours=self.rng.choice((2, 5, 12, 20, 24, 30, 48, 72)))


def _metadata(rng: random.Random, external_id: str, start: datetime) -> Participant:
    """Drawn the same way for every participant of every conversation, groomer, child or
    anyone else: a quarter declare an age (a third of those under 16), half have an account
    date (a quarter of those under a month old)."""
    age = None
    if rng.random() < 0.25:
        age = rng.randint(11, 15) if rng.random() < 0.35 else rng.randint(16, 60)
    created = None
    if rng.random() < 0.5:
        days = rng.randint(1, 29) if rng.random() < 0.25 else rng.randint(30, 2500)
        created = start - timedelta(days=days)
    return Participant(external_id, declared_age=age, account_created_at=created)


# Some groomers move fast: a short conversation, nearly all theirs, the child answering once
# or twice. Without these the window model learnt that grooming needs a child who writes
# back (a window whose other side wrote under three messages says nothing of who they are),
# and six messages asking for secrecy, a photo, a meeting and another app, to a child who
# said she was 13, scored 0.28.
FAST_SHARE = 0.06
FAST_LENGTHS = (4, 5, 6, 8, 10, 12)


def _grooming(
    rng: random.Random, index: int, start: datetime, platform: str, pools: _Pools
) -> LabelledConversation:
    conversation = _grooming_thin(rng, index, start, platform, pools)
    # Drawn apart from ``rng``, so the other conversations of a seed stay as they were.
    fast = random.Random(f"fast:{index}:{start.isoformat()}")
    if fast.random() < FAST_SHARE:
        return _grooming_fast(fast, conversation, pools)
    return conversation


def _grooming_fast(
    rng: random.Random, thin: LabelledConversation, pools: _Pools
) -> LabelledConversation:
    """A short conversation in the same setting as ``thin`` (its people, platform, clock
    start), nearly all the groomer's: telling lines from any stages, in order, a little
    small talk, and one or two answers from the child."""
    groomer, child = (p.external_id for p in thin.participants)
    clock = _Clock(rng, thin.messages[0].sent_at)
    length = rng.choice(FAST_LENGTHS)
    answers = set(rng.sample(range(1, length), k=min(length - 1, rng.choice((1, 1, 2)))))
    own = [k for k in range(length) if k not in answers]
    telling = sorted(rng.sample(own, k=max(2, min(len(own), rng.randint(2, len(own))))))
    stages = sorted(rng.sample(range(len(STAGES)), k=min(len(telling), rng.randint(2, 5))))
    talk = pools.domain(rng, ("gaming", "school", "everyday", "fragments"))
    child_talk = pools.domain(rng, CHILD_DOMAINS)
    messages: list[Message] = []
    labels: list[frozenset[str]] = []
    for k in range(length):
        if k in answers:
            messages.append(Message(f"m{k + 1}", child, clock.tick(), rng.choice(child_talk).text))
            labels.append(frozenset())
        elif k in telling:
            done = telling.index(k)
            stage = stages[min(len(stages) - 1, done * len(stages) // len(telling))]
            pick = rng.choice(pools.by_label[rng.choice(STAGES[stage])])
            messages.append(Message(f"m{k + 1}", groomer, clock.tick(), pick.text))
            labels.append(pick.labels)
        else:
            messages.append(Message(f"m{k + 1}", groomer, clock.tick(), rng.choice(talk).text))
            labels.append(frozenset())
    if rng.random() < 0.6:
        _say_age(rng, messages, sorted(answers), rng.randint(11, 15))
    return LabelledConversation(thin.external_id, thin.platform, thin.participants, messages,
                                labels, 1, thin.predators, thin.kind)  # fmt: skip


def _grooming_thin(
    rng: random.Random, index: int, start: datetime, platform: str, pools: _Pools
) -> LabelledConversation:
    groomer, child = f"u{index}-a", f"u{index}-b"
    people = [_metadata(rng, groomer, start), _metadata(rng, child, start)]
    clock = _Clock(rng, start)
    length = rng.choice(GROOMING_LENGTHS)
    # How far the groomer gets, and how many telling lines: few, whatever the length.
    last_stage = rng.choice((1, 2, 3, 4, 5, 6, 6))
    stages = [s for s in range(len(STAGES)) if s <= last_stage and (s < 2 or rng.random() < 0.8)]
    low = max(2, len(stages) - 2)
    telling = rng.randint(low, max(low + 1, min(len(stages) * 3, length // 4)))
    if rng.random() < 0.5:  # spread over the whole conversation
        positions = sorted(rng.sample(range(length), k=min(telling, length)))
    else:  # a burst somewhere in it
        centre, spread = rng.randrange(length), rng.randint(10, 40)
        positions = sorted(
            {min(length - 1, max(0, int(rng.gauss(centre, spread)))) for _ in range(telling)}
        )
    talk = pools.domain(rng, ("gaming", "school", "everyday", "fragments"))
    child_talk = pools.domain(rng, CHILD_DOMAINS)
    messages: list[Message] = []
    labels: list[frozenset[str]] = []
    telling_at = set(positions)
    done = 0
    for k in range(length):
        clock.maybe_new_session(0.03)
        if k in telling_at:
            stage = stages[min(len(stages) - 1, done * len(stages) // max(len(positions), 1))]
            done += 1
            pick = rng.choice(pools.by_label[rng.choice(STAGES[stage])])
            messages.append(Message(f"m{k + 1}", groomer, clock.tick(), pick.text))
            labels.append(pick.labels)
            continue
        # Small talk: the child answers a little more often than the groomer talks.
        if rng.random() < 0.55:
            pool = child_talk if rng.random() < 0.6 else pools.domains.get("child", child_talk)
            messages.append(Message(f"m{k + 1}", child, clock.tick(), rng.choice(pool).text))
        else:
            messages.append(Message(f"m{k + 1}", groomer, clock.tick(), rng.choice(talk).text))
        labels.append(frozenset())
    plain = [i for i, tags in enumerate(labels) if not tags]
    if rng.random() < 0.6:  # the child says how old they are, mostly early on
        said = [i for i in plain if messages[i].sender == child]
        _say_age(rng, messages, said[: len(said) // 2 + 1], rng.randint(11, 15))
    if rng.random() < 0.3:
        _say_age(rng, messages, [i for i in plain if messages[i].sender == groomer],
                 rng.randint(19, 55))  # fmt: skip
    return LabelledConversation(
        f"gen-{index}", platform, people, messages, labels, 1, frozenset({groomer}), "grooming"
    )


def _benign(
    rng: random.Random,
    index: int,
    start: datetime,
    platform: str,
    pools: _Pools,
    *,
    hard: bool,
) -> LabelledConversation:
    if hard and pools.flirting and rng.random() < 0.5:
        domain, surface, rate = "adult", pools.flirting, rng.uniform(0.15, 0.6)
    else:
        domain = rng.choice(BENIGN_DOMAINS)
        surface, rate = (pools.hard or pools.flirting), (rng.uniform(0.03, 0.2) if hard else 0.0)
    talk = pools.domain(rng, (domain,))
    size = rng.choice((2, 3, 4, 6)) if domain in GROUP_CHAT_DOMAINS and rng.random() < 0.5 else 2
    people = [_metadata(rng, f"u{index}-{chr(97 + p)}", start) for p in range(size)]
    clock = _Clock(rng, start)
    length = rng.choice(BENIGN_LENGTHS)
    messages = []
    for k in range(length):
        clock.maybe_new_session(0.03)
        draw = rng.random()
        pool = surface if draw < rate else talk
        sender = people[k % size if rng.random() < 0.7 else rng.randrange(size)].external_id
        messages.append(Message(f"m{k + 1}", sender, clock.tick(), rng.choice(pool).text))
    if rng.random() < (0.05 if domain == "tech" else 0.4):
        teen = domain in TEEN_DOMAINS and rng.random() < 0.7
        for person in rng.sample(people, k=rng.randint(1, min(2, size))):
            age = rng.randint(11, 15) if teen else rng.randint(18, 60)
            own = [i for i, m in enumerate(messages) if m.sender == person.external_id]
            _say_age(rng, messages, own, age)
    return LabelledConversation(
        f"gen-{index}",
        platform,
        people,
        messages,
        [frozenset()] * length,
        0,
        frozenset(),
        "hard_negative" if hard else "benign",
    )


def generate_conversations(
    n: int,
    *,
    seed: int,
    grooming_share: float = 0.35,
    hard_negative_share: float = 0.3,
    start: datetime | None = None,
    platform: str = "demo-chat",
    seed_messages: Sequence[SeedMessage] | None = None,
) -> list[LabelledConversation]:
    """``n`` conversations; pass ``seed_messages`` (a subset of the corpus) to build training
    and test conversations from disjoint texts."""
    if not 0 <= grooming_share + hard_negative_share <= 1:
        raise ValueError("grooming_share + hard_negative_share must be between 0 and 1")
    rng = random.Random(seed)
    pools = _Pools(seed_messages if seed_messages is not None else load_seed_messages())
    base = start or datetime(2026, 9, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        when = base + timedelta(days=rng.randint(0, 60), minutes=rng.randrange(1440))
        draw = rng.random()
        if draw < grooming_share:
            out.append(_grooming(rng, i, when, platform, pools))
        else:
            hard = draw < grooming_share + hard_negative_share
            out.append(_benign(rng, i, when, platform, pools, hard=hard))
    return out
