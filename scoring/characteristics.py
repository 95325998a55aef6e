"""The one source of truth for the grooming characteristics Artemis highlights.

The UI legend, the feature extractor, the training seed and the docs all read this table.
Severity (1-5) is the default weight a tenant starts from; admins may override it per tenant.
Colours are chosen to stay distinguishable for moderators with common colour-vision deficits
and to be readable as a highlight behind dark text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Characteristic:
    key: str
    label: str
    description: str
    severity: int
    colour: str
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
    ),
    Characteristic(
        "age_gap_normalisation",
        "Age gap normalisation",
        "Raises or minimises the age difference or its legality.",
        3,
        "#c6dbef",
    ),
    Characteristic(
        "trust_building",
        "Trust building",
        'Heavy compliments, pet names, affection, "I understand you like nobody else".',
        1,
        "#c7e9c0",
    ),
    Characteristic(
        "supervision_check",
        "Supervision check",
        "Asks who is home, who can see the chat, or when the child is alone.",
        3,
        "#fdd0a2",
    ),
    Characteristic(
        "secrecy_request",
        "Secrecy request",
        'Asks to keep it secret ("don\'t tell"), delete chats, or worries about parents or police.',
        4,
        "#fdae6b",
    ),
    Characteristic(
        "exclusivity_isolation",
        "Exclusivity / isolation",
        '"Only I get you"; undermines parents or friends.',
        3,
        "#dadaeb",
    ),
    Characteristic(
        "sexual_content",
        "Sexual content",
        "Steers the conversation toward sexual topics or experience.",
        5,
        "#fcbba1",
        blurred=True,
    ),
    Characteristic(
        "media_request",
        "Media request",
        "Asks for photos, webcam or video calls.",
        5,
        "#fc9272",
        urgent=True,
        blurred=True,
    ),
    Characteristic(
        "gifts_incentives",
        "Gifts / incentives",
        "Offers money, gifts, game currency or favours.",
        3,
        "#fee391",
    ),
    Characteristic(
        "pressure_coercion",
        "Pressure / coercion",
        "Guilt, commands, threats, sextortion or boundary testing.",
        5,
        "#bcbddc",
        urgent=True,
    ),
    Characteristic(
        "platform_migration",
        "Platform migration",
        'Moves the chat to another app, swaps numbers, "call me".',
        3,
        "#a1d99b",
    ),
    Characteristic(
        "meeting_arrangement",
        "Meeting arrangement",
        "Proposes meeting in person: time, place, address or travel.",
        5,
        "#f768a1",
        urgent=True,
    ),
)

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
