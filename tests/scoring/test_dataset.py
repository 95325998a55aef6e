"""The project's JSONL format and the PAN 2012 reader."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scoring.dataset import dataset_fingerprint, read_jsonl, read_pan2012, write_jsonl
from scoring.generator import generate_conversations

DATA = Path(__file__).parent / "data"


def one(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": "c-1",
        "label": 1,
        "predators": ["u-2"],
        "participants": [{"external_id": "u-1", "declared_age": 13}, {"external_id": "u-2"}],
        "messages": [
            {
                "external_id": "m-1",
                "sender": "u-2",
                "sent_at": "2026-03-01T18:02:11+01:00",
                "text": "how old r u",
                "labels": ["personal_info_probe"],
            }
        ],
    }
    record.update(overrides)
    return record


def write(tmp_path: Path, *records: Any) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def test_generated_conversations_survive_a_jsonl_round_trip(tmp_path: Path) -> None:
    conversations = generate_conversations(20, seed=3)
    path = tmp_path / "out.jsonl"

    write_jsonl(path, conversations)
    again = read_jsonl(path)

    assert dataset_fingerprint(again) == dataset_fingerprint(conversations)
    assert (
        again[0].messages[0].sent_at.utcoffset() == conversations[0].messages[0].sent_at.utcoffset()
    )


def test_a_labelled_line_reads_with_its_message_labels(tmp_path: Path) -> None:
    [conversation] = read_jsonl(write(tmp_path, one()))

    assert conversation.label == 1
    assert conversation.predators == {"u-2"}
    assert conversation.message_labels == [frozenset({"personal_info_probe"})]
    assert conversation.participants[0].declared_age == 13


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "line 2: not valid JSON"),
        (
            json.dumps(one(messages=[{**one()["messages"][0], "sent_at": "2026-03-01T18:02:11"}])),
            "line 2: messages[0].sent_at has no UTC offset",
        ),
        (
            json.dumps(one(messages=[{**one()["messages"][0], "labels": ["grooming"]}])),
            "line 2: messages[0].labels has unknown characteristic(s) grooming",
        ),
        (
            json.dumps(
                one(messages=[{k: v for k, v in one()["messages"][0].items() if k != "text"}])
            ),
            "line 2: messages[0].text is missing",
        ),
        (json.dumps(one(label=2)), "line 2: label must be 0, 1 or null"),
    ],
)
def test_every_reader_error_names_the_line_and_field(tmp_path: Path, line: str, says: str) -> None:
    path = write(tmp_path, one(), line)

    with pytest.raises(ValueError, match=re.escape(says)):
        read_jsonl(path)


def test_the_pan_2012_reader_labels_conversations_by_the_predator_list() -> None:
    conversations = read_pan2012(DATA / "pan2012_sample.xml", DATA / "pan2012_predators.txt")

    assert [c.external_id for c in conversations] == ["c0a1", "c0a2", "c0a3"]
    assert [c.label for c in conversations] == [1, 0, 1]
    assert conversations[0].predators == {"aa11"}
    assert {p.external_id for p in conversations[0].participants} == {"aa11", "bb22"}


def test_pan_times_keep_their_order_across_midnight_and_empty_texts_stay() -> None:
    [first, _, third] = read_pan2012(DATA / "pan2012_sample.xml", DATA / "pan2012_predators.txt")

    moments = [m.sent_at for m in first.messages]
    assert moments == sorted(moments)
    assert (moments[2] - moments[1]).total_seconds() == 120
    assert first.messages[3].text == ""
    assert third.messages[2].text == ""


def test_without_a_predator_list_pan_conversations_are_unlabelled() -> None:
    conversations = read_pan2012(DATA / "pan2012_sample.xml")

    assert {c.label for c in conversations} == {None}


def test_a_bad_pan_time_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(
        '<conversations><conversation id="x"><message line="1"><author>a</author>'
        "<time>noon</time><text>hi</text></message></conversation></conversations>"
    )

    with pytest.raises(ValueError, match="conversation x message 1: time 'noon' is not HH:MM"):
        read_pan2012(path)
