"""Threshold tuning: the figures an admin reads before moving the flag threshold.

Selectors (each takes the tenant) plus pure arithmetic, so the figures can be checked by
hand. Two sources:

- scores: each conversation's latest assessment scored in the window gives the score
  histogram and the expected queue volume per day at a threshold;
- labels: each conversation's latest non-superseded decision made in the window, labelled
  by the verdicts table (no violation = negative; warn, suspend, ban, escalations =
  positive; "ask a supervisor" = no label), at the probability the moderator saw, gives
  precision and recall.

Labels exist only for conversations that reached the queue, so below the threshold in force
when they were queued nothing is labelled: recall there cannot be measured.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from review.decisions.verdicts import NEGATIVE, POSITIVE
from review.models import Assessment, Decision, Tenant

BINS = 20
WINDOWS = (7, 14, 30, 90)
# A candidate threshold is tried to three decimals: a calibrated model's scores crowd
# near 1 (0.99 and 0.995 can be many conversations a day apart), and a finer step than
# 0.001 moves no figure the page shows.
THRESHOLD_DECIMALS = 3


def threshold_label(value: float) -> str:
    """A threshold as the page writes it: two decimals (0.70), three when it has them
    (0.995)."""
    return f"{value:.2f}" if round(value, 2) == round(value, THRESHOLD_DECIMALS) else f"{value:.3f}"


@dataclass(frozen=True)
class Label:
    probability: float
    positive: bool


@dataclass(frozen=True)
class AtThreshold:
    threshold: float
    per_day: float  # conversations a day that would reach the queue
    flagged: int  # labelled conversations at or above the threshold
    true_positives: int
    precision: float | None  # None: nothing labelled at or above it
    recall: float | None  # None: no positive label at all


def latest_scores(*, tenant: Tenant, days: int) -> list[float]:
    """Each conversation's latest probability among those scored in the last ``days``."""
    since = timezone.now() - timedelta(days=days)
    latest: dict[int, float] = {}
    rows = (
        Assessment.objects.filter(conversation__tenant=tenant, scored_at__gte=since)
        .order_by("conversation_id", "scored_at", "pk")
        .values_list("conversation_id", "probability")
    )
    for conversation_id, probability in rows.iterator(chunk_size=5000):
        latest[conversation_id] = probability
    return list(latest.values())


def decision_labels(*, tenant: Tenant, days: int) -> list[Label]:
    """One label per decided conversation: its latest non-superseded decision in the window,
    at the probability of the item the moderator decided on."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Decision.objects.filter(tenant=tenant, created_at__gte=since, superseded_by__isnull=True)
        .filter(verdict__in=POSITIVE | NEGATIVE)
        .values_list("verdict", "queue_item__probability")
    )
    return [Label(probability=p, positive=v in POSITIVE) for v, p in rows]


def histogram(scores: list[float], bins: int = BINS) -> list[int]:
    counts = [0] * bins
    for score in scores:
        counts[min(int(score * bins), bins - 1)] += 1
    return counts


class Figures:
    """Scores and labels sorted once, so each threshold costs three binary searches."""

    def __init__(self, *, scores: list[float], labels: list[Label], days: int) -> None:
        self.days = days
        self.scores = sorted(scores)
        self.positives = sorted(label.probability for label in labels if label.positive)
        self.negatives = sorted(label.probability for label in labels if not label.positive)

    @staticmethod
    def _at_or_above(values: list[float], threshold: float) -> int:
        return len(values) - bisect_left(values, threshold)

    def at(self, threshold: float) -> AtThreshold:
        true_positives = self._at_or_above(self.positives, threshold)
        flagged = true_positives + self._at_or_above(self.negatives, threshold)
        return AtThreshold(
            threshold=threshold,
            per_day=self._at_or_above(self.scores, threshold) / self.days,
            flagged=flagged,
            true_positives=true_positives,
            precision=true_positives / flagged if flagged else None,
            recall=true_positives / len(self.positives) if self.positives else None,
        )

    def curve(self) -> list[AtThreshold]:
        """The figures at every 0.01 step of the threshold, 0 to 1."""
        return [self.at(step / 100) for step in range(101)]
