"""The machine-readable files of a referral package: JSON (UTF-8) and CSV (UTF-8 with a byte
order mark, so spreadsheet programs read non-Latin text correctly).

The JSON holds every value exactly. The CSV is for reading in a spreadsheet, so a cell that
would run there as a formula (chat text or an id that starts with =, +, -, @, a tab or a
carriage return) is written with a leading apostrophe (``review.csv_safe``); README.txt
tells the recipient so. The manifest hashes the CSV as written."""

from __future__ import annotations

import io
import json
from typing import Any

from review import csv_safe
from review.cases.referral.evidence import Evidence, as_sent_to_utc

TIME_NOTE = (
    "sent_at_utc is the instant in UTC; utc_offset is the sender's own offset from UTC as the "
    "platform sent it, and sent_at_local the same instant in that offset (18 U.S.C. "
    "2258A(b)(2) asks for the time zone)."
)


def as_json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def as_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)  # None is written as an empty cell
    return out.getvalue().encode("utf-8-sig")


def case_json(ev: Evidence) -> bytes:
    return as_json({"provider": ev.provider, **ev.case})


def indicators_json(ev: Evidence) -> bytes:
    return as_json(
        {
            "case": ev.reference,
            "note": (
                "Indicators come from Artemis' automated assessment, a decision aid: people "
                "reviewed the conversation and decided to refer it."
            ),
            "assessment": ev.assessment,
            "characteristics": [
                {
                    "key": i.key,
                    "label": i.label,
                    "description": i.description,
                    "messages": i.messages,
                    "first_message_id": i.first_message_id,
                    "first_at_utc": i.first_at_utc,
                    "first_at_local": i.first_at_local,
                    "highest_score": i.highest_score,
                }
                for i in ev.indicators
            ],
        }
    )


def transcript_json(ev: Evidence) -> bytes:
    return as_json(
        {
            "case": ev.reference,
            "conversation": ev.conversation,
            "time_note": TIME_NOTE,
            "messages": ev.messages,
        }
    )


def transcript_csv(ev: Evidence) -> bytes:
    return as_csv(
        [
            "position",
            "message_id",
            "sender_id",
            "sent_at_utc",
            "utc_offset",
            "sent_at_local",
            "indicators",
            "text",
        ],
        [
            [
                m["position"],
                m["message_id"],
                m["sender_id"],
                m["sent_at_utc"],
                m["utc_offset"],
                m["sent_at_local"],
                ";".join(i["characteristic"] for i in m["indicators"]),
                m["text"],
            ]
            for m in ev.messages
        ],
    )


def participants_json(ev: Evidence) -> bytes:
    return as_json(
        {
            "case": ev.reference,
            "note": (
                "Participants and account data as the platform sent them to Artemis. The "
                "details the moderator confirmed for the report are in case.json "
                "(reported_details, victim_details)."
            ),
            "participants": ev.participants,
        }
    )


def participants_csv(ev: Evidence) -> bytes:
    rows = []
    for p in ev.participants:
        location = p["estimated_location"] or {}
        rows.append(
            [
                p["external_id"],
                p["role_in_case"],
                p["display_name"],
                p["screen_name"],
                p["declared_age"],
                p["date_of_birth"],
                p["email"],
                p["account_created_at_utc"],
                location.get("country", ""),
                location.get("region", ""),
                location.get("city", ""),
                len(p["ip_events"] or []),
                len(p["device_ids"] or []),
            ]
        )
    return as_csv(
        [
            "participant_id",
            "role_in_case",
            "display_name",
            "screen_name",
            "declared_age",
            "date_of_birth",
            "email",
            "account_created_at_utc",
            "country",
            "region",
            "city",
            "ip_events",
            "device_ids",
        ],
        rows,
    )


def ip_events_csv(ev: Evidence) -> bytes:
    rows = []
    for p in ev.participants:
        for e in p["ip_events"] or []:
            item = e if isinstance(e, dict) else {"ip": str(e)}
            rows.append(
                [
                    p["external_id"],
                    p["role_in_case"],
                    item.get("ip", ""),
                    item.get("at", ""),
                    as_sent_to_utc(item.get("at")),
                    item.get("event", ""),
                ]
            )
    return as_csv(["participant_id", "role_in_case", "ip", "at_as_sent", "at_utc", "event"], rows)


def devices_csv(ev: Evidence) -> bytes:
    rows = [
        [p["external_id"], p["role_in_case"], device]
        for p in ev.participants
        for device in p["device_ids"] or []
    ]
    return as_csv(["participant_id", "role_in_case", "device_id"], rows)


def custody_json(ev: Evidence) -> bytes:
    return as_json(
        {
            "case": ev.reference,
            "note": (
                "Every audit-trail event about this case and its conversation, in the order "
                "of the provider's append-only, hash-chained trail. Each event's hash is "
                "SHA-256 over hash_input serialised as JSON with sorted keys, no spaces and "
                "non-ASCII characters escaped (Python: json.dumps(hash_input, sort_keys=True, "
                "separators=(',', ':'))). prev_hash links to the event before it in the "
                "provider's whole trail, which also holds events about other matters: the "
                "provider can show with `manage.py verify_audit` that these events sit in an "
                "unbroken chain. The download that produced this package is recorded after "
                "it was built, so it is not listed here."
            ),
            "chain_head_at_build": ev.chain_head,
            "events": ev.custody,
        }
    )


def custody_csv(ev: Evidence) -> bytes:
    return as_csv(
        [
            "sequence",
            "at_utc",
            "actor",
            "action",
            "action_label",
            "target_type",
            "target_id",
            "ip",
            "detail",
            "prev_hash",
            "hash",
        ],
        [
            [
                e["sequence"],
                e["at_utc"],
                e["actor"],
                e["action"],
                e["action_label"],
                e["target_type"],
                e["target_id"],
                e["ip"],
                json.dumps(e["detail"], sort_keys=True, ensure_ascii=False),
                e["prev_hash"],
                e["hash"],
            ]
            for e in ev.custody
        ],
    )
