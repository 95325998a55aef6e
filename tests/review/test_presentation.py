"""Highlight segmentation and flag summaries, as a moderator will read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from review.presentation import flag_summary, local_time, segments, waited_label


def test_text_without_spans_is_one_plain_segment() -> None:
    [only] = segments("hello there", {}, {})

    assert only.text == "hello there"
    assert only.key is None


def test_a_span_splits_the_text_around_the_highlighted_words() -> None:
    parts = segments(
        "ok dont tell ur mom", {"secrecy_request": [[3, 12]]}, {"secrecy_request": 0.9}
    )

    assert [(p.text, p.key) for p in parts] == [
        ("ok ", None),
        ("dont tell", "secrecy_request"),
        (" ur mom", None),
    ]
    assert "".join(p.text for p in parts) == "ok dont tell ur mom"


def test_overlapping_spans_keep_both_characteristics_strongest_first() -> None:
    text = "send a pic on snap"
    parts = segments(
        text,
        {"media_request": [[0, 10]], "platform_migration": [[7, 18]]},
        {"media_request": 0.8, "platform_migration": 0.95},
    )

    assert [(p.text, p.keys) for p in parts] == [
        ("send a ", ("media_request",)),
        ("pic", ("platform_migration", "media_request")),
        (" on snap", ("platform_migration",)),
    ]


def test_spans_beyond_the_text_are_clipped_not_trusted() -> None:
    parts = segments("short", {"trust_building": [[2, 99], [50, 60]]}, {})

    assert [(p.text, p.key) for p in parts] == [("sh", None), ("ort", "trust_building")]


def test_local_time_keeps_the_senders_offset() -> None:
    moment = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)

    assert local_time(moment, 60).isoformat() == "2026-11-01T18:00:00+01:00"
    assert local_time(moment, -300).hour == 12


def test_the_summary_puts_severe_characteristics_first_and_names_the_first_message() -> None:
    highlights = [
        {"message": "m-1", "characteristic": "trust_building", "score": 0.7, "spans": []},
        {"message": "m-4", "characteristic": "meeting_arrangement", "score": 0.9, "spans": []},
        {"message": "m-2", "characteristic": "trust_building", "score": 0.8, "spans": []},
    ]

    summary = flag_summary(highlights)

    assert [(s.key, s.count, s.first_message) for s in summary] == [
        ("meeting_arrangement", 1, "m-4"),
        ("trust_building", 2, "m-1"),
    ]
    assert summary[1].top_score == 0.8


def test_the_queue_says_how_long_an_item_waited_in_two_units_at_most() -> None:
    assert waited_label(timedelta(seconds=59)) == "0 min"
    assert waited_label(timedelta(minutes=5)) == "5 min"
    assert waited_label(timedelta(hours=3)) == "3 h"
    assert waited_label(timedelta(hours=3, minutes=20, seconds=30)) == "3 h 20 min"
    assert waited_label(timedelta(days=2, hours=4, minutes=59)) == "2 d 4 h"
    assert waited_label(timedelta(days=1)) == "1 d"
    assert waited_label(timedelta(seconds=-5)) == "0 min", "a clock a little ahead"
