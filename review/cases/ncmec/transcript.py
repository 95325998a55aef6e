"""The transcript file sent with a report, and its ``<fileDetails>``.

The file is JSON (UTF-8): every message with its platform id, the UTC time, the sender's own
UTC offset and local time (2258A(b)(2) asks for the time zone), the sender's id and the text.
It is built from the stored messages alone, so the same conversation always gives the same
bytes and the same hashes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from review.cases.ncmec.selectors import revealed_message_ids, transcript_views
from review.intake import selectors
from review.models import Case, Message
from review.presentation import local_time

FILE_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Transcript:
    name: str
    content: bytes
    md5: str
    sha256: str
    message_count: int
    first_at: datetime | None
    last_at: datetime | None
    last_position: int | None


def offset_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def transcript_name(case: Case) -> str:
    return f"{case.reference}-transcript.json"


def _messages(case: Case) -> list[Message]:
    return list(selectors.message_list(tenant=case.tenant, conversation=case.conversation))


def transcript_build(case: Case) -> Transcript:
    conversation = case.conversation
    messages = _messages(case)
    participants = selectors.participant_list(tenant=case.tenant, conversation=conversation)
    roles = {
        case.reported_participant_id: "reported user",
        case.victim_participant_id: "child",
    }
    document = {
        "case": case.reference,
        "platform": conversation.platform,
        "conversation": conversation.external_id,
        "channel": conversation.channel,
        "times": (
            "sent_at_utc is UTC; utc_offset is the sender's offset from UTC as the platform "
            "recorded it; sent_at_local is the same moment on the sender's clock"
        ),
        "participants": [
            {
                "id": p.external_id,
                "display_name": p.display_name,
                "screen_name": p.screen_name,
                "role": roles.get(p.pk, ""),
            }
            for p in participants
        ],
        "message_count": len(messages),
        "messages": [
            {
                "id": m.external_id,
                "sent_at_utc": utc_iso(m.sent_at),
                "utc_offset": offset_label(m.utc_offset_minutes),
                "sent_at_local": local_time(m.sent_at, m.utc_offset_minutes).isoformat(),
                "sender": m.sender.external_id,
                "text": m.text,
            }
            for m in messages
        ],
    }
    content = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
    return Transcript(
        name=transcript_name(case),
        content=content,
        # MD5 because NCMEC answers an upload with the MD5 it computed; not for security.
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        message_count=len(messages),
        first_at=messages[0].sent_at if messages else None,
        last_at=messages[-1].sent_at if messages else None,
        last_position=messages[-1].position if messages else None,
    )


def transcript_viewed_whole(case: Case) -> bool:
    """Whether the audit trail shows that one person saw every message of the transcript.

    The review page's VIEW event records the last message position it showed and the
    messages it kept hidden (blurred); a hidden message counts as seen only once the same
    person revealed it (a REVEAL event). A view from before the last message arrived, or one
    whose hidden messages stayed hidden, is not a view of the whole transcript. Older VIEW
    events without these fields cannot tell, so they count as not seen.
    """
    conversation = case.conversation
    last = (
        selectors.message_list(tenant=case.tenant, conversation=conversation)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    if last is None:
        return False
    revealed = revealed_message_ids(tenant=case.tenant, conversation=conversation)
    for view in transcript_views(tenant=case.tenant, conversation=conversation):
        through = view.detail.get("through_position")
        blurred = view.detail.get("blurred")
        if through is None or blurred is None or int(through) < last:
            continue
        if {int(pk) for pk in blurred} <= revealed.get(view.actor_id, set()):
            return True
    return False


def file_details_xml(
    *,
    report_id: str,
    file_id: str,
    name: str,
    md5: str,
    sha256: str,
    message_count: int,
    viewed_by_esp: bool,
) -> bytes:
    """``<fileDetails>`` for the transcript, children in the schema's order.

    Left out on purpose: originalFileName, uploadedToEspTimestamp, originalFileHash and
    ipCaptureEvent describe a file a user uploaded to the platform; the transcript is a file
    the platform made, so they do not apply. Our hashes go in ``<details type="HASH">``.
    """
    root = etree.Element("fileDetails")
    etree.SubElement(root, "reportId").text = str(report_id)
    etree.SubElement(root, "fileId").text = file_id
    etree.SubElement(root, "fileName").text = name
    etree.SubElement(root, "fileViewedByEsp").text = "true" if viewed_by_esp else "false"
    # The chat is what is reported; this file documents it and is not itself imagery.
    etree.SubElement(root, "fileRelevance").text = "Supplemental Reported"
    details = etree.SubElement(root, "details", type="HASH")
    for name, value in (("MD5", md5), ("SHA-256", sha256)):
        pair = etree.SubElement(details, "nameValuePair")
        etree.SubElement(pair, "name").text = name
        etree.SubElement(pair, "value").text = value
    etree.SubElement(root, "additionalInfo").text = (
        f"Transcript of the reported chat made by the platform from its stored messages: "
        f"{message_count} messages, each with its message id, sender id, UTC time "
        f"and the sender's UTC offset (JSON, UTF-8)."
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
