"""The human-readable documents of a referral package: the cover sheet, the narrative and the
transcript (PDF), and the README that says how to check the package."""

from __future__ import annotations

from review.cases.referral.evidence import Evidence, utc_iso
from review.cases.referral.pdf import Document, Field

# The files of a package, in the order the cover sheet and the README list them.
CONTENTS: dict[str, str] = {
    "README.txt": "what is in this package and how to verify it",
    "cover.pdf": "cover sheet: provider, legal-process contact, case reference, preservation",
    "narrative.pdf": "the case narrative and a summary of the indicators",
    "case.json": "the case record: decision, approval, incident time, reported user and child",
    "indicators.json": "indicators from the latest automated assessment (machine-readable)",
    "transcript.pdf": "the conversation, message by message, in UTC and the sender's local time",
    "transcript.json": "the conversation with exact text, message ids, UTC times and offsets",
    "transcript.csv": "the same transcript as CSV (UTF-8 with byte order mark)",
    "participants.json": "participants and account data as the platform sent them",
    "participants.csv": "the participants, one row each",
    "ip_events.csv": "IP address events the platform sent, one row each",
    "devices.csv": "device identifiers the platform sent, one row each",
    "chain_of_custody.json": "audit-trail events about this case, with sequence numbers and hashes",
    "chain_of_custody.csv": "the same events as CSV",
    "signing_public_key.pem": "the public key that signed manifest.json (check its fingerprint)",
}


def _when(utc: str, local: str = "") -> str:
    if not utc:
        return ""
    return f"{utc} (local {local})" if local and local != utc else utc


def cover_pdf(ev: Evidence, *, key_fingerprint: str) -> bytes:
    case, provider = ev.case, ev.provider
    doc = Document(title="Cover sheet", reference=ev.reference, generated_at=ev.generated_at)
    doc.h1("Law-enforcement referral package")
    doc.paragraph(
        "This package holds records about suspected online enticement of a child, referred by "
        "the provider named below. Handle it under your agency's evidence procedures."
    )
    if case["preserve_until"]:
        preservation = (
            f"The provider preserves these records until {case['preserve_until']} "
            "(one year from the report or delivery; it may be extended on request)."
        )
    else:
        preservation = (
            "Not started yet: the provider preserves the records for one year from the "
            "CyberTipline receipt or from delivery of this package."
        )
    doc.fields(
        [
            Field("Provider (ESP)", provider["name"]),
            Field("Platform", case["tenant"]["name"]),
            Field("Legal-process contact", provider["legal_contact"]),
            Field("Case reference", ev.reference),
            Field("Kind", case["kind_label"]),
            Field(
                "CyberTipline report id",
                case["ncmec_report_id"] or "none (no CyberTipline report recorded for this case)",
            ),
            Field("Preservation", preservation),
            Field("Reported account", case["reported_participant"] or "not identified"),
            Field("Incident", _when(case["incident_at_utc"], case["incident_at_local"])),
            Field("Urgency", case["urgency_reason"] or "none stated"),
            Field("Approved by", f"{case['approved_by']} at {case['approved_at_utc']}".strip()),
            Field("Package generated", f"{utc_iso(ev.generated_at)} by {ev.generated_by}"),
            Field("Signature", f"Ed25519, key {key_fingerprint}"),
        ]
    )
    doc.h2("How to serve legal process")
    doc.paragraph(provider["legal_instructions"].replace("{reference}", ev.reference))
    doc.paragraph(
        "Verify the package before relying on it: README.txt gives the commands. Check the "
        "signature with the provider's published public key, not only the copy in this "
        "package.",
        size=9,
    )
    doc.h2("Contents")
    doc.grid(
        ["File", "What it holds"],
        [[name, what] for name, what in CONTENTS.items()]
        + [["manifest.json", "SHA-256 and MD5 of every file"], ["manifest.sig", "signature"]],
        [44, 130],
        size=7.5,
    )
    return doc.render()


def narrative_pdf(ev: Evidence) -> bytes:
    case = ev.case
    doc = Document(title="Narrative", reference=ev.reference, generated_at=ev.generated_at)
    doc.h1(f"Narrative: case {ev.reference}")
    doc.h2("The case")
    doc.paragraph(case["narrative"] or "(No narrative was written for this case.)")
    annotations = ", ".join(a["label"] for a in case["annotations"]) or "none"
    decision = case["decision"]
    doc.fields(
        [
            Field("Incident", _when(case["incident_at_utc"], case["incident_at_local"])),
            Field("Urgency", case["urgency_reason"] or "none stated"),
            Field("Annotations", annotations),
            Field("Reported account", case["reported_participant"] or "not identified"),
            Field("Child's account", case["victim_participant"] or "not identified"),
            Field(
                "Decision",
                f"{decision['verdict_label']}: {decision['reason']} "
                f"({decision['moderator']}, {decision['decided_at_utc']})",
            ),
            Field("Approved by", f"{case['approved_by']} {case['approved_at_utc']}".strip()),
            Field(
                "Conversation",
                f"{ev.conversation['external_id']} "
                f"({ev.conversation['messages']} messages, "
                f"{ev.conversation['first_message_at_utc']} to "
                f"{ev.conversation['last_message_at_utc']})",
            ),
        ]
    )
    doc.h2("Indicators (automated assessment)")
    assessment = ev.assessment
    if assessment is None:
        doc.paragraph("The conversation has no automated assessment.")
    else:
        doc.paragraph(
            f"Probability {assessment['probability']:.2f} from model version "
            f"{assessment['model_version']}, scored at {assessment['scored_at_utc']} over "
            f"{assessment['messages_scored']} messages. The score is a decision aid: people "
            "reviewed the conversation and decided to refer it.",
            size=9.5,
        )
        if ev.indicators:
            doc.grid(
                ["Characteristic", "Messages", "First occurrence", "Highest score"],
                [
                    [
                        f"{i.label}\n{i.description}",
                        str(i.messages),
                        f"{i.first_message_id}\n{_when(i.first_at_utc, i.first_at_local)}",
                        f"{i.highest_score:.2f}",
                    ]
                    for i in ev.indicators
                ],
                [64, 21, 67, 22],
            )
        else:
            doc.paragraph("No message was highlighted.")
        if assessment["factors"]:
            doc.h2("Main factors")
            doc.paragraph("\n".join(f"• {f}" for f in assessment["factors"]), size=9.5)
    return doc.render()


def transcript_pdf(ev: Evidence) -> bytes:
    conv = ev.conversation
    doc = Document(title="Transcript", reference=ev.reference, generated_at=ev.generated_at)
    doc.h1(f"Transcript: conversation {conv['external_id']}")
    doc.fields(
        [
            Field("Platform / channel", f"{conv['platform']} {conv['channel']}".strip()),
            Field("Messages", str(conv["messages"])),
            Field(
                "Participants",
                ", ".join(
                    p["external_id"] + (f" ({p['role_in_case']})" if p["role_in_case"] else "")
                    for p in ev.participants
                ),
            ),
        ]
    )
    doc.paragraph(
        "Each message shows its position, message id, sender id, the time in UTC and the "
        "sender's local time with the offset the platform sent. Highlighted indicators are "
        "noted under the heading. The exact text is in transcript.json; characters this "
        "document's font cannot draw appear as \ufffd.",
        size=8.5,
    )
    for m in ev.messages:
        heading = (
            f"#{m['position']} · {m['message_id']} · from {m['sender_id']} · "
            f"{m['sent_at_utc']} · local {m['sent_at_local']} (UTC{m['utc_offset']})"
        )
        note = ", ".join(f"{i['label']} ({float(i['score'] or 0):.2f})" for i in m["indicators"])
        doc.message(heading=heading, text=m["text"], note=f"Indicators: {note}" if note else "")
    if not ev.messages:
        doc.paragraph("The conversation holds no messages.")
    return doc.render()


def readme_txt(ev: Evidence, *, key_fingerprint: str) -> bytes:
    files = "\n".join(f"  {name:<24} {what}" for name, what in CONTENTS.items())
    text = f"""\
Law-enforcement referral package, case {ev.reference}
Provider: {ev.provider["name"]}
Generated {utc_iso(ev.generated_at)} by {ev.generated_by}

CONTENTS
{files}
  {"manifest.json":<24} SHA-256, MD5 and size of every file above
  {"manifest.sig":<24} Ed25519 signature over the exact bytes of manifest.json

Times: every timestamp is given in UTC (ending in Z) and, for messages, also in the
sender's local time with the UTC offset the platform sent.

HOW TO VERIFY
The package was signed with the provider's Ed25519 key
  {key_fingerprint}
(SHA-256 of the public key in DER form). Trust the key the provider publishes or gives
you through a separate channel, not signing_public_key.pem from this ZIP: anyone who
altered the package could also have replaced that file.

1. Unpack:   unzip -d package <file>.zip && cd package
2. Check the fingerprint of the provider's published key (provider.pem):
     openssl pkey -pubin -in provider.pem -outform DER | sha256sum
   It must equal the hex above.
3. Check the signature over the manifest (OpenSSL 3):
     openssl pkeyutl -verify -pubin -inkey provider.pem -rawin \\
       -in manifest.json -sigfile manifest.sig
   It must print "Signature Verified Successfully".
4. Check every file against the manifest:
     jq -r '.files[] | "\\(.sha256)  \\(.name)"' manifest.json | sha256sum -c
     jq -r '.files[] | "\\(.md5)  \\(.name)"' manifest.json | md5sum -c
   and that the ZIP holds no file other than those listed, manifest.json and
   manifest.sig.

With Artemis, one command does all of this:
     python manage.py verify_package <file>.zip --public-key provider.pem

Chain of custody: chain_of_custody.json lists the provider's audit-trail events about
this case with their sequence numbers and hashes; its "note" says how to recompute each
hash. The provider can show that these events sit in its unbroken trail.

CSV files are UTF-8 with a byte order mark. So that no spreadsheet runs a cell as a
formula, a CSV cell whose text begins with =, +, -, @, a tab or a carriage return carries
one extra apostrophe in front of it: '=1+1 in a CSV file stands for =1+1. UTC offsets
(transcript.csv, utc_offset) carry it too: '+01:00, '-05:30. Numbers are written as they
are. The JSON files hold the exact values, without the apostrophe: transcript.json for
messages, participants.json for participants, IP events and devices, and
chain_of_custody.json for the audit events. Rely on the JSON where the exact text matters.
"""
    return text.encode()
