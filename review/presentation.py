"""Turning stored results into what a moderator reads: highlighted text segments, local
times, and a short summary of why a conversation was flagged. Pure functions, no queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import pairwise

from scoring import characteristics


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    keys: tuple[str, ...]  # characteristics covering this piece, strongest first

    @property
    def key(self) -> str | None:
        return self.keys[0] if self.keys else None

    @property
    def labels(self) -> str:
        return ", ".join(characteristics.get(k).label for k in self.keys)


def segments(
    text: str, spans: Mapping[str, Sequence[Sequence[int]]], scores: Mapping[str, float]
) -> list[Segment]:
    """Split ``text`` at every span boundary; each piece knows which characteristics cover
    it. Overlapping spans of different characteristics are kept, strongest first. Spans out
    of range (a model bug or a changed text) are clipped rather than trusted."""
    n = len(text)
    cuts = {0, n}
    clean: list[tuple[int, int, str]] = []
    for key, pairs in spans.items():
        for pair in pairs:
            start, end = max(0, int(pair[0])), min(n, int(pair[1]))
            if start < end:
                clean.append((start, end, key))
                cuts.update((start, end))
    points = sorted(cuts)
    out: list[Segment] = []
    for start, end in pairwise(points):
        covering = {key for s, e, key in clean if s <= start and end <= e}
        keys = tuple(sorted(covering, key=lambda k: (-scores.get(k, 0.0), k)))
        if out and out[-1].keys == keys:
            out[-1] = Segment(out[-1].text + text[start:end], keys)
        else:
            out.append(Segment(text[start:end], keys))
    return out


def local_time(sent_at: datetime, offset_minutes: int) -> datetime:
    """The moment as the sender's clock showed it, with that UTC offset attached."""
    return sent_at.astimezone(timezone(timedelta(minutes=offset_minutes)))


@dataclass(frozen=True, slots=True)
class SummaryLine:
    key: str
    label: str
    colour: str
    count: int
    top_score: float
    first_message: str


def flag_summary(highlights: Iterable[Mapping[str, object]]) -> list[SummaryLine]:
    """Per characteristic: how many messages show it, the strongest score and the first
    message (highlights come in message order). Most severe and most frequent first."""
    by_key: dict[str, list[Mapping[str, object]]] = {}
    for highlight in highlights:
        by_key.setdefault(str(highlight["characteristic"]), []).append(highlight)
    lines = [
        SummaryLine(
            key=key,
            label=characteristics.get(key).label,
            colour=characteristics.get(key).colour,
            count=len(items),
            top_score=max(float(h["score"]) for h in items),  # type: ignore[arg-type]
            first_message=str(items[0]["message"]),
        )
        for key, items in by_key.items()
    ]
    return sorted(lines, key=lambda s: (-characteristics.get(s.key).severity, -s.count, s.key))


def waited_label(waited: timedelta) -> str:
    """How long an item has waited, to the minute and in at most two units: "5 min",
    "3 h 20 min", "2 d 4 h". Cheaper than Django's timesince on every row of the queue."""
    minutes = max(0, int(waited.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
