"""Ages that participants state in their own words.

Platforms rarely know ages, and declared ages are often false; but in a grooming
conversation the child usually says how old they are (often because the adult asked), and
the adult keeps going. "im 13", "13 f", "i'm in 8th grade" from one participant, and
sexual talk, secrecy or a meeting from the other, is the pattern a moderator looks for
first. This is what was said, so it counts as text evidence; the window model combines it
with the other participant's characteristics and never flags on it alone (a child saying
their age to a friend is ordinary).

Deliberately narrow: a number in a sentence is not an age ("im 13 levels up", "13 min").
Only first-person statements, the "13 f" / "13/m" / "13 yo" shapes of chat, and a message
that is a two-digit number and nothing else (the usual answer to "how old are you") count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

MINOR_MAX = 15  # stated ages up to this count as a child's
ADULT_MIN = 18

_WORDS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_NUMBER = r"(\d{1,2}|" + "|".join(_WORDS) + r")"
_FIRST_PERSON = re.compile(
    r"\b(?:i'?m|i\s+am|im|am|i\s+just\s+turned|i\s+turned|turned|i'?ll\s+be)\s+"
    r"(?:only\s+|just\s+|like\s+|almost\s+|nearly\s+)?"
    + _NUMBER
    + r"\b(?![-/:.,]?\s*\d)(?!\s*(?:min|mins|"
    r"minutes|hours|hrs|days|levels?|lvl|points|pts|dollars|bucks|%|k\b|th\b|st\b|nd\b|rd\b|"
    r"percent|times|am\b|pm\b|o'?clock|inches|in\b|ft|feet|cm|kg|lbs?|miles|km))",
    re.IGNORECASE,
)
_SHAPE = re.compile(
    r"(?:^|[\s,(])" + _NUMBER + r"\s*(?:/\s*)?(?:f|m|yo|y/o|yrs?\s+old|years?\s+old|"
    r"year\s+old)\b",
    re.IGNORECASE,
)
_GRADE = re.compile(
    r"\b(?:i'?m|im|i\s+am)\s+(?:in\s+)?(?:the\s+)?(5th|6th|7th|8th|9th|fifth|sixth|seventh|"
    r"eighth|ninth)\s+grade|\b(?:i'?m|im|i\s+am)\s+(?:in\s+)?(?:year|yr)\s+([6-9]|10)\b|"
    r"\b(?:i'?m|im|i\s+am)\s+(?:a\s+)?(?:6th|7th|8th|freshman|middle\s+school)",
    re.IGNORECASE,
)


# A message that is only a number, the usual answer to "how old are you" or "asl".
_BARE = re.compile(r"^\s*(\d{2})\s*[.!?]*\s*$")


# Every statement above holds a digit or one of these words: a message without any (most
# chat) is answered with one scan instead of four.
_CANDIDATE = re.compile(
    r"\d|ten|eleven|twelve|teen|grade|year|yr|freshman|middle|sixth|fifth|eighth|ninth",
    re.IGNORECASE,
)
# The same on ASCII text lowered: what IGNORECASE adds beyond ASCII case (the Kelvin sign
# for k, the long s for s) cannot occur in it, and a digit there is 0-9. Several times
# faster than the case-blind scan, which tries every alternative at every character.
_ASCII_CANDIDATE = re.compile(_CANDIDATE.pattern.replace("\\d", "[0-9]"))


def _candidate(text: str) -> bool:
    """Whether ``text`` holds a digit or one of the words an age statement needs."""
    if text.isascii():
        return _ASCII_CANDIDATE.search(text.lower()) is not None
    return _CANDIDATE.search(text) is not None


def _value(token: str) -> int:
    return _WORDS[token.lower()] if token.lower() in _WORDS else int(token)


def stated_ages(text: str) -> list[int]:
    """The ages ``text`` states for its writer, in order."""
    if not _candidate(text):
        return []
    out = [_value(m.group(1)) for m in _FIRST_PERSON.finditer(text)]
    out += [_value(m.group(1)) for m in _SHAPE.finditer(text)]
    bare = _BARE.match(text)
    if bare:
        out.append(int(bare.group(1)))
    return [a for a in out if 10 <= a <= 99]


def states_minor(text: str) -> bool:
    """The writer says they are a child (an age up to MINOR_MAX, or a school grade that
    means one)."""
    return said(text)[0]


def states_adult(text: str) -> bool:
    return said(text)[1]


def said(text: str) -> tuple[bool, bool]:
    """(states_minor, states_adult) of ``text``, reading it once."""
    if not _candidate(text):
        return False, False
    ages = stated_ages(text)
    minor = any(a <= MINOR_MAX for a in ages) or bool(_GRADE.search(text))
    return minor, any(a >= ADULT_MIN for a in ages)


def said_each(texts: Sequence[str]) -> np.ndarray:
    """``said`` of each text, as a texts x 2 boolean array."""
    out = np.zeros((len(texts), 2), dtype=bool)
    for i, text in enumerate(texts):
        if _candidate(text):
            out[i] = said(text)
    return out
