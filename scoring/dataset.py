"""Labelled conversations: the project's JSONL format and the PAN 2012 corpus format.

The project's JSONL format is one conversation per line, the same shape as the REST ingest
payload plus labels, so a labelled file can also be POSTed to /api/v1/conversations:

    {"external_id": "c-1", "platform": "demo-chat", "label": 1, "predators": ["u-2"],
     "participants": [{"external_id": "u-1", "display_name": "Mia", "declared_age": 13,
                       "account_created_at": "2026-01-02T10:00:00+00:00"}],
     "messages": [{"external_id": "m-1", "sender": "u-2", "sent_at": "2026-03-01T18:02:11+01:00",
                   "text": "...", "labels": ["personal_info_probe"]}]}

``label`` is 1 (grooming), 0 (not) or null (unknown); ``predators`` and per-message
``labels`` are optional. Timestamps are ISO 8601 with their UTC offset.

PAN 2012 Sexual Predator Identification: ``<conversations><conversation id><message line>
<author/><time>HH:MM</time><text/></message>...`` plus a text file of predator author ids.
Its times have no date: they are placed on a fixed day in UTC, keeping their order (a time
earlier than the one before means midnight passed). Messages with an empty text are kept as
"" so message counts match the corpus (the engine scores them as empty). The XML is parsed
with defusedxml: a corpus file is user input, and entity tricks must not blow up a worker.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from defusedxml.ElementTree import iterparse

from scoring.characteristics import KEYS
from scoring.jsonl import read_records
from scoring.types import Message, Participant

PAN_DAY = datetime(2012, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class LabelledConversation:
    external_id: str
    platform: str
    participants: list[Participant]
    messages: list[Message]
    message_labels: list[frozenset[str]]
    label: int | None
    predators: frozenset[str] = field(default_factory=frozenset)
    kind: str = ""


def _timestamp(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where} is not an ISO 8601 timestamp: {value!r}") from None
    if parsed.utcoffset() is None:
        raise ValueError(f"{where} has no UTC offset")
    return parsed


def conversation_from_dict(data: Any, where: str) -> LabelledConversation:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: each line must be a JSON object")
    for name in ("external_id", "participants", "messages"):
        if name not in data:
            raise ValueError(f"{where}: {name} is missing")
    label = data.get("label")
    if label not in (0, 1, None):
        raise ValueError(f"{where}: label must be 0, 1 or null")
    participants = []
    for i, p in enumerate(data["participants"]):
        if not isinstance(p, dict) or not p.get("external_id"):
            raise ValueError(f"{where}: participants[{i}].external_id is missing")
        created = p.get("account_created_at")
        participants.append(
            Participant(
                external_id=str(p["external_id"]),
                declared_age=p.get("declared_age"),
                account_created_at=(
                    _timestamp(created, f"{where}: participants[{i}].account_created_at")
                    if created
                    else None
                ),
            )
        )
    messages, labels = [], []
    for i, m in enumerate(data["messages"]):
        path = f"{where}: messages[{i}]"
        if not isinstance(m, dict):
            raise ValueError(f"{path} must be an object")
        for name in ("external_id", "sender", "sent_at"):
            if not m.get(name):
                raise ValueError(f"{path}.{name} is missing")
        if not isinstance(m.get("text"), str):
            raise ValueError(f"{path}.text is missing")
        unknown = sorted(set(m.get("labels", [])) - set(KEYS))
        if unknown:
            raise ValueError(f"{path}.labels has unknown characteristic(s) {', '.join(unknown)}")
        messages.append(
            Message(
                external_id=str(m["external_id"]),
                sender=str(m["sender"]),
                sent_at=_timestamp(m["sent_at"], f"{path}.sent_at"),
                text=m["text"],
            )
        )
        labels.append(frozenset(m.get("labels", [])))
    return LabelledConversation(
        external_id=str(data["external_id"]),
        platform=str(data.get("platform", "")),
        participants=participants,
        messages=messages,
        message_labels=labels,
        label=label,
        predators=frozenset(data.get("predators", [])),
        kind=str(data.get("kind", "")),
    )


def conversation_to_dict(conversation: LabelledConversation) -> dict[str, Any]:
    return {
        "external_id": conversation.external_id,
        "platform": conversation.platform,
        "label": conversation.label,
        "kind": conversation.kind,
        "predators": sorted(conversation.predators),
        "participants": [
            {
                "external_id": p.external_id,
                "declared_age": p.declared_age,
                "account_created_at": p.account_created_at.isoformat()
                if p.account_created_at
                else None,
            }
            for p in conversation.participants
        ],
        "messages": [
            {
                "external_id": m.external_id,
                "sender": m.sender,
                "sent_at": m.sent_at.isoformat(),
                "text": m.text,
                "labels": sorted(labels),
            }
            for m, labels in zip(conversation.messages, conversation.message_labels, strict=True)
        ],
    }


def read_jsonl(path: Path) -> list[LabelledConversation]:
    return [conversation_from_dict(data, where) for where, data in read_records(path)]


def write_jsonl(path: Path, conversations: Iterable[LabelledConversation]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for conversation in conversations:
            handle.write(json.dumps(conversation_to_dict(conversation), ensure_ascii=False) + "\n")


def read_pan2012(
    conversations_xml: Path, predators_txt: Path | None = None
) -> list[LabelledConversation]:
    predators: set[str] | None = None
    if predators_txt is not None:
        predators = {
            line.strip()
            for line in predators_txt.read_text(encoding="utf-8").splitlines()
            if line.strip()
        }
    out: list[LabelledConversation] = []
    for _, element in iterparse(conversations_xml, events=("end",)):
        if element.tag != "conversation":
            continue
        conversation_id = element.get("id") or f"pan-{len(out)}"
        messages, authors = [], []
        day, previous = PAN_DAY, None
        for index, node in enumerate(element.findall("message")):
            author = (node.findtext("author") or "").strip()
            clock = (node.findtext("time") or "00:00").strip()
            try:
                hours, minutes = (int(x) for x in clock.split(":")[:2])
            except ValueError:
                raise ValueError(
                    f"{conversations_xml.name}: conversation {conversation_id} message "
                    f"{index + 1}: time {clock!r} is not HH:MM"
                ) from None
            moment = day.replace(hour=hours % 24, minute=minutes % 60)
            if previous is not None and moment < previous:
                day += timedelta(days=1)
                moment += timedelta(days=1)
            previous = moment
            messages.append(
                Message(
                    external_id=node.get("line") or str(index + 1),
                    sender=author,
                    sent_at=moment,
                    text=node.findtext("text") or "",
                )
            )
            if author not in authors:
                authors.append(author)
        element.clear()
        found = frozenset(a for a in authors if predators is not None and a in predators)
        out.append(
            LabelledConversation(
                external_id=conversation_id,
                platform="pan2012",
                participants=[Participant(external_id=a) for a in authors],
                messages=messages,
                message_labels=[frozenset()] * len(messages),
                label=None if predators is None else int(bool(found)),
                predators=found,
                kind="pan2012",
            )
        )
    return out


def dataset_fingerprint(conversations: Sequence[LabelledConversation]) -> str:
    digest = hashlib.sha256()
    for conversation in conversations:
        digest.update(
            json.dumps(conversation_to_dict(conversation), sort_keys=True).encode() + b"\n"
        )
    return digest.hexdigest()
