"""The one source of truth for the grooming characteristics Artemis highlights.

The UI legend, the feature extractor, the training seed and the docs all read this table.
Severity (1-5) is the default weight a tenant starts from; admins may override it per tenant.
Colours are chosen to stay distinguishable for moderators with common colour-vision deficits
and to be readable as a highlight behind dark text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Characteristic:
    key: str
    label: str
    description: str
    severity: int
    colour: str
    # Permanent identity in stored data: the queue keeps an item's characteristics as a
    # bitmask (review.models.QueueItem.characteristic_bits), so a row's bit never changes
    # and a new characteristic takes the next free one, wherever its row goes in the table.
    bit: int
    # O'Connell's stage, earliest first: 0 friendship and probing, 1 risk assessment and
    # exclusivity, 2 secrecy, 3 the sexual or incentive stage, 4 off-platform or meeting.
    stage: int
    # A second cue besides the colour, shown before each highlight, chip and legend entry, so
    # calm mode (greyscale) and colour-blind moderators can still tell characteristics apart.
    # One character, in common fonts (DejaVu, system-ui), unique in the table.
    symbol: str
    # Urgent characteristics jump the moderation queue (see review.selectors).
    urgent: bool = False
    # Blurred in the review UI until a moderator reveals them (moderator wellness).
    blurred: bool = False


CHARACTERISTICS: tuple[Characteristic, ...] = (
    Characteristic(
        "personal_info_probe",
        "Personal info probe",
        "Asks age, sex, location, school or other identifying details.",
        2,
        "#9ecae1",
        bit=0,
        stage=0,
        symbol="?",
    ),
    Characteristic(
        "age_gap_normalisation",
        "Age gap normalisation",
        "Raises or minimises the age difference or its legality.",
        3,
        "#c6dbef",
        bit=1,
        stage=1,
        symbol="±",
    ),
    Characteristic(
        "trust_building",
        "Trust building",
        'Heavy compliments, pet names, affection, "I understand you like nobody else".',
        1,
        "#c7e9c0",
        bit=2,
        stage=0,
        symbol="♥",
    ),
    Characteristic(
        "supervision_check",
        "Supervision check",
        "Asks who is home, who can see the chat, or when the child is alone.",
        3,
        "#fdd0a2",
        bit=3,
        stage=1,
        symbol="◎",
    ),
    Characteristic(
        "secrecy_request",
        "Secrecy request",
        'Asks to keep it secret ("don\'t tell"), delete chats, or worries about parents or police.',
        4,
        "#fdae6b",
        bit=4,
        stage=2,
        symbol="⊘",
    ),
    Characteristic(
        "exclusivity_isolation",
        "Exclusivity / isolation",
        '"Only I get you"; undermines parents or friends.',
        3,
        "#dadaeb",
        bit=5,
        stage=1,
        symbol="◇",
    ),
    Characteristic(
        "sexual_content",
        "Sexual content",
        "Steers the conversation toward sexual topics or experience.",
        5,
        "#fcbba1",
        bit=6,
        stage=3,
        symbol="✖",
        blurred=True,
    ),
    Characteristic(
        "media_request",
        "Media request",
        "Asks for photos, webcam or video calls.",
        5,
        "#fc9272",
        bit=7,
        stage=3,
        symbol="▣",
        urgent=True,
        blurred=True,
    ),
    Characteristic(
        "gifts_incentives",
        "Gifts / incentives",
        "Offers money, gifts, game currency or favours.",
        3,
        "#fee391",
        bit=8,
        stage=3,
        symbol="$",
    ),
    Characteristic(
        "pressure_coercion",
        "Pressure / coercion",
        "Guilt, commands, threats, sextortion or boundary testing.",
        5,
        "#bcbddc",
        bit=9,
        stage=3,
        symbol="!",
        urgent=True,
    ),
    Characteristic(
        "platform_migration",
        "Platform migration",
        'Moves the chat to another app, swaps numbers, "call me".',
        3,
        "#a1d99b",
        bit=10,
        stage=4,
        symbol="⇄",
    ),
    Characteristic(
        "meeting_arrangement",
        "Meeting arrangement",
        "Proposes meeting in person: time, place, address or travel.",
        5,
        "#f768a1",
        bit=11,
        stage=4,
        symbol="⚑",
        urgent=True,
    ),
)

STAGES = 5
KEYS: tuple[str, ...] = tuple(c.key for c in CHARACTERISTICS)
BY_KEY: dict[str, Characteristic] = {c.key: c for c in CHARACTERISTICS}
URGENT_KEYS: frozenset[str] = frozenset(c.key for c in CHARACTERISTICS if c.urgent)
BLURRED_KEYS: frozenset[str] = frozenset(c.key for c in CHARACTERISTICS if c.blurred)


def get(key: str) -> Characteristic:
    """Return the characteristic for ``key``, naming the key in the error if it is unknown."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown characteristic {key!r}; known: {', '.join(KEYS)}") from None


def bits(keys: Iterable[str]) -> int:
    """The bitmask of ``keys`` (each key's permanent ``bit``)."""
    return sum(1 << get(k).bit for k in set(keys))


# A symbol goes into a CSS string (review.templatetags.artemis.characteristic_styles).
_UNSAFE_SYMBOLS = frozenset('"\\<>&')


def _check(rows: tuple[Characteristic, ...]) -> None:
    """The table's own rules, checked on import: a duplicate bit would merge two
    characteristics in every stored queue item without a word."""
    seen: dict[int, str] = {}
    for row in rows:
        if not 0 <= row.bit < 31:  # a signed 32-bit integer column holds the mask
            raise ValueError(f"{row.key}: bit {row.bit} is outside 0-30")
        if row.bit in seen:
            raise ValueError(f"{row.key}: bit {row.bit} is already {seen[row.bit]}'s")
        seen[row.bit] = row.key
        if len(row.symbol) != 1 or row.symbol in _UNSAFE_SYMBOLS:
            raise ValueError(f"{row.key}: symbol {row.symbol!r} must be one character, not quotes")
        if not 0 <= row.stage < STAGES:
            raise ValueError(f"{row.key}: stage {row.stage} is outside 0-{STAGES - 1}")
    if len({row.key for row in rows}) != len(rows):
        raise ValueError("two characteristics share a key")
    if len({row.symbol for row in rows}) != len(rows):
        raise ValueError("two characteristics share a symbol: the second cue must tell them apart")


_check(CHARACTERISTICS)
