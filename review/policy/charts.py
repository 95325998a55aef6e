"""Server-side SVG charts: no JavaScript, no CDN. Each has a <title> and <desc> (read by
screen readers through role="img" and aria-labelledby), labelled axes, and a table of the
same numbers next to it on the page.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from review.policy.tuning import AtThreshold, threshold_label

W, H = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44


def _x(value: float) -> float:
    return LEFT + value * (W - LEFT - RIGHT)


def _y(value: float, top: float) -> float:
    return H - BOTTOM - (value / top if top else 0) * (H - TOP - BOTTOM)


def _frame(chart_id: str, title: str, desc: str, x_label: str, y_label: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f'<line class="axis" x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}"/>'
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}"/>'
        f'<text class="axis-label" x="{(LEFT + W - RIGHT) / 2}" y="{H - 6}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
        f'<text class="axis-label" x="14" y="{(TOP + H - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + H - BOTTOM) / 2})">{escape(y_label)}</text>'
        f"{body}</svg>"
    )


def _x_ticks() -> str:
    return "".join(
        f'<text class="tick" x="{_x(t / 10):.1f}" y="{H - BOTTOM + 14}" '
        f'text-anchor="middle">{t / 10:.1f}</text>'
        for t in range(0, 11, 2)
    )


def _marker(value: float, label: str, css: str, *, left: bool = False) -> str:
    """A vertical line at ``value``; its label on the right, or on the left (``left``) so two
    markers close together do not print over each other."""
    x = _x(value)
    anchor, dx = ("end", -3) if left else ("start", 3)
    return (
        f'<line class="mark {css}" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}"/>'
        f'<text class="mark-label {css}" x="{x + dx:.1f}" y="{TOP + 10}" '
        f'text-anchor="{anchor}">{escape(label)}</text>'
    )


def _marks(current: float, candidate: float | None) -> str:
    marks = _marker(
        current, f"current {threshold_label(current)}", "current", left=(candidate or 0) > current
    )
    if candidate is not None and candidate != current:
        marks += _marker(
            candidate,
            f"candidate {threshold_label(candidate)}",
            "candidate",
            left=candidate < current,
        )
    return marks


def histogram_svg(
    counts: Sequence[int], *, days: int, current: float, candidate: float | None
) -> SafeString:
    top = max(counts, default=0) or 1
    width = (W - LEFT - RIGHT) / len(counts)
    bars = "".join(
        f'<rect class="bar" x="{LEFT + i * width + 1:.1f}" y="{_y(n, top):.1f}" '
        f'width="{width - 2:.1f}" height="{H - BOTTOM - _y(n, top):.1f}">'
        f"<title>{i / len(counts):.2f} to {(i + 1) / len(counts):.2f}: {n} conversations</title>"
        "</rect>"
        for i, n in enumerate(counts)
    )
    y_ticks = (
        f'<text class="tick" x="{LEFT - 6}" y="{_y(top, top) + 4:.1f}" '
        f'text-anchor="end">{top}</text>'
        f'<text class="tick" x="{LEFT - 6}" y="{H - BOTTOM + 4}" text-anchor="end">0</text>'
    )
    marks = _marks(current, candidate)
    desc = (
        f"Latest scores of {sum(counts)} conversations scored in the last {days} days, in "
        f"{len(counts)} bands of {1 / len(counts):.2f}; the current flag threshold is "
        f"{current:.2f}."
    )
    return mark_safe(  # noqa: S308 - every interpolated value is a number or escaped
        _frame(
            "histogram",
            f"Score distribution, last {days} days",
            desc,
            "probability (latest score)",
            "conversations",
            bars + _x_ticks() + y_ticks + marks,
        )
    )


def pr_svg(curve: Sequence[AtThreshold], *, current: float, candidate: float | None) -> SafeString:
    """Precision and recall against the threshold (both estimated from decisions)."""

    def line(values: list[tuple[float, float | None]], css: str) -> str:
        points = " ".join(f"{_x(t):.1f},{_y(v, 1):.1f}" for t, v in values if v is not None)
        return f'<polyline class="{css}" points="{points}" fill="none"/>' if points else ""

    precision = line([(p.threshold, p.precision) for p in curve], "precision")
    recall = line([(p.threshold, p.recall) for p in curve], "recall")
    y_ticks = "".join(
        f'<text class="tick" x="{LEFT - 6}" y="{_y(v / 4, 1) + 4:.1f}" '
        f'text-anchor="end">{v / 4:.2f}</text>'
        for v in range(5)
    )
    legend = (
        f'<text class="legend precision-label" x="{W - RIGHT - 150}" y="{H - BOTTOM - 28}">'
        "— precision</text>"
        f'<text class="legend recall-label" x="{W - RIGHT - 150}" y="{H - BOTTOM - 12}">'
        "- - recall</text>"
    )
    marks = _marks(current, candidate)
    labelled = curve[0].flagged if curve else 0
    desc = (
        f"Estimated precision and recall at each threshold from 0 to 1, from {labelled} "
        "moderator decisions; only conversations that reached the queue are labelled, so "
        "below the threshold in force when they were queued the figures are not known."
    )
    return mark_safe(  # noqa: S308 - every interpolated value is a number or escaped
        _frame(
            "pr",
            "Precision and recall by threshold (estimated from decisions)",
            desc,
            "flag threshold",
            "precision / recall",
            precision + recall + _x_ticks() + y_ticks + legend + marks,
        )
    )


def volume_svg(
    curve: Sequence[AtThreshold], *, days: int, current: float, candidate: float | None
) -> SafeString:
    """Expected conversations a day reaching the queue, against the flag threshold."""
    top = max((p.per_day for p in curve), default=0) or 1
    points = " ".join(f"{_x(p.threshold):.1f},{_y(p.per_day, top):.1f}" for p in curve)
    y_ticks = "".join(
        f'<text class="tick" x="{LEFT - 6}" y="{_y(top * v / 4, top) + 4:.1f}" '
        f'text-anchor="end">{top * v / 4:.3g}</text>'
        for v in range(5)
    )
    desc = (
        f"Conversations a day whose latest score reaches each threshold from 0 to 1, from the "
        f"last {days} days; at the current threshold {current:.2f}: "
        f"{next((p.per_day for p in curve if p.threshold >= current), 0):.2f} a day."
    )
    return mark_safe(  # noqa: S308 - every interpolated value is a number or escaped
        _frame(
            "volume",
            f"Expected queue volume per day, last {days} days",
            desc,
            "flag threshold",
            "conversations per day",
            f'<polyline class="volume" points="{points}" fill="none"/>'
            + _x_ticks()
            + y_ticks
            + _marks(current, candidate),
        )
    )
