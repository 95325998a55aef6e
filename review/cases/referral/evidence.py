"""What goes into a referral package, read once from the database into plain data.

``Evidence`` holds the case, the transcript, the participants as the platform sent them, the
indicators of the latest assessment and the chain of custody; ``files.py`` and
``documents.py`` turn it into JSON, CSV and PDF. Every read goes through a selector that
takes the case's tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.utils.dateparse import parse_datetime

from review.audit.services import event_hash_input
from review.cases.referral import selectors as referral_selectors
from review.intake import selectors
from review.models import CASE_ANNOTATIONS, REASON_CODES, AuditAction, Case
from scoring import characteristics

# --- time ------------------------------------------------------------------------------------


def utc_iso(moment: datetime | None) -> str:
    """``2026-11-01T17:00:00Z``: the instant in UTC."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def offset_label(minutes: int | None) -> str:
    """``+01:00``, ``-05:30``: an offset from UTC as ISO 8601 writes it."""
    if minutes is None:
        return ""
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def local_iso(moment: datetime | None, minutes: int | None) -> str:
    """The instant in the sender's own offset, as the platform sent it:
    ``2026-11-01T18:00:00+01:00``."""
    if moment is None or minutes is None:
        return ""
    return moment.astimezone(dt_timezone(timedelta(minutes=minutes))).isoformat()


def as_sent_to_utc(value: object) -> str:
    """A timestamp the platform sent as a string (IP events), in UTC; empty if it carries no
    offset or does not parse, since a guess at the zone would be worse than nothing."""
    if not isinstance(value, str):
        return ""
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        return ""
    return utc_iso(parsed)


# --- custody ---------------------------------------------------------------------------------


# --- the evidence ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    description: str
    messages: int
    first_message_id: str
    first_at_utc: str
    first_at_local: str
    highest_score: float


@dataclass
class Evidence:
    case: dict[str, Any]
    provider: dict[str, str]
    conversation: dict[str, Any]
    messages: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    assessment: dict[str, Any] | None
    indicators: list[Indicator]
    custody: list[dict[str, Any]]
    chain_head: dict[str, Any] | None
    generated_at: datetime
    generated_by: str
    notes: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return str(self.case["reference"])


def _user(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _case_data(case: Case) -> dict[str, Any]:
    decision = case.decision
    return {
        "reference": case.reference,
        # "kind" is the reporting target's name (format /1 kept the key).
        "kind": case.target,
        "kind_label": case.target_label,
        "status": case.status,
        "status_label": case.status_label,
        "tenant": {"slug": case.tenant.slug, "name": case.tenant.name},
        "conversation": case.conversation.external_id,
        "decision": {
            "id": decision.pk,
            "verdict": decision.verdict,
            "verdict_label": decision.get_verdict_display(),
            "reason_code": decision.reason_code,
            "reason": REASON_CODES.get(decision.reason_code, (decision.reason_code,))[0],
            "moderator": _user(decision.moderator),
            "decided_at_utc": utc_iso(decision.created_at),
        },
        "author": _user(case.author),
        "approved_by": _user(case.approved_by),
        "approved_at_utc": utc_iso(case.approved_at),
        "incident_at_utc": utc_iso(case.incident_at),
        "incident_utc_offset": offset_label(case.incident_utc_offset_minutes),
        "incident_at_local": local_iso(case.incident_at, case.incident_utc_offset_minutes),
        "narrative": case.narrative,
        "urgency_reason": case.urgency_reason,
        "annotations": [
            {"key": key, "label": CASE_ANNOTATIONS.get(key, key)} for key in case.annotations
        ],
        # The keys for what the target gave back; each target fills its own.
        "ncmec_report_id": "",
        "ncmec_file_ids": [],
        "submitted_at_utc": "",
        "delivered_on": "",
        "delivery_recorded_at_utc": "",
        **case.reporting_target.package_fields(case),
        "submitted_to": case.submitted_to,
        "submission_reference": case.submission_reference,
        "preserve_until": case.preserve_until.isoformat() if case.preserve_until else "",
        "reported_participant": (
            case.reported_participant.external_id if case.reported_participant else ""
        ),
        "victim_participant": (
            case.victim_participant.external_id if case.victim_participant else ""
        ),
        # As the moderator completed them in the case editor (prefilled from the platform).
        "reported_details": case.reported_details,
        "victim_details": case.victim_details,
    }


def evidence_gather(
    *, case: Case, actor: Any, provider: dict[str, str], generated_at: datetime
) -> Evidence:
    tenant = case.tenant
    conversation = case.conversation
    assessment = selectors.assessment_latest(tenant=tenant, conversation=conversation)
    highlights: dict[str, list[dict[str, Any]]] = {}
    for h in assessment.highlights if assessment else []:
        if "message" in h and "characteristic" in h:
            highlights.setdefault(h["message"], []).append(h)

    roles = {
        case.reported_participant_id: "reported",
        case.victim_participant_id: "child",
    }
    participants = []
    for p in selectors.participant_list(tenant=tenant, conversation=conversation):
        participants.append(
            {
                "external_id": p.external_id,
                "role_in_case": roles.get(p.pk, ""),
                "display_name": p.display_name,
                "screen_name": p.screen_name,
                "declared_age": p.declared_age,
                "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
                "email": p.email,
                "account_created_at_utc": utc_iso(p.account_created_at) or None,
                "estimated_location": p.estimated_location,
                "ip_events": p.ip_events,
                "device_ids": p.device_ids,
            }
        )

    messages = []
    first_seen: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    highest: dict[str, float] = {}
    for m in selectors.message_list(tenant=tenant, conversation=conversation).iterator(
        chunk_size=2000
    ):
        marks = highlights.get(m.external_id, [])
        row = {
            "position": m.position,
            "message_id": m.external_id,
            "sender_id": m.sender.external_id,
            "sent_at_utc": utc_iso(m.sent_at),
            "utc_offset": offset_label(m.utc_offset_minutes),
            "utc_offset_minutes": m.utc_offset_minutes,
            "sent_at_local": local_iso(m.sent_at, m.utc_offset_minutes),
            "text": m.text,
            "indicators": [
                {
                    "characteristic": h["characteristic"],
                    "label": _label(h["characteristic"]),
                    "score": h.get("score"),
                    "spans": h.get("spans", []),
                }
                for h in marks
            ],
        }
        messages.append(row)
        for h in marks:
            key = h["characteristic"]
            counts[key] = counts.get(key, 0) + 1
            highest[key] = max(highest.get(key, 0.0), float(h.get("score") or 0.0))
            first_seen.setdefault(key, row)

    indicators = [
        Indicator(
            key=key,
            label=_label(key),
            description=_description(key),
            messages=counts[key],
            first_message_id=row["message_id"],
            first_at_utc=row["sent_at_utc"],
            first_at_local=row["sent_at_local"],
            highest_score=round(highest[key], 4),
        )
        for key, row in sorted(first_seen.items(), key=lambda kv: kv[1]["position"])
    ]

    custody = []
    for event in referral_selectors.custody_events(tenant=tenant, case=case):
        hash_input = event_hash_input(event)
        custody.append(
            {
                "sequence": event.sequence,
                "at_utc": utc_iso(event.created_at),
                "actor": event.actor_label,
                "actor_id": event.actor_id,
                "action": event.action,
                "action_label": _action_label(event.action),
                "target_type": event.target_type,
                "target_id": event.target_id,
                "detail": event.detail,
                "ip": event.ip,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
                "hash_input": hash_input,
            }
        )
    head = referral_selectors.audit_head(tenant=tenant)

    return Evidence(
        case=_case_data(case),
        provider=provider,
        conversation={
            "external_id": conversation.external_id,
            "platform": conversation.platform,
            "channel": conversation.channel,
            "messages": len(messages),
            "first_message_at_utc": messages[0]["sent_at_utc"] if messages else "",
            "last_message_at_utc": messages[-1]["sent_at_utc"] if messages else "",
        },
        messages=messages,
        participants=participants,
        assessment=(
            {
                "probability": round(assessment.probability, 4),
                "model_version": assessment.model_version,
                "scored_at_utc": utc_iso(assessment.scored_at),
                "messages_scored": assessment.message_count,
                "factors": assessment.factors,
                "participant_scores": assessment.suspect_scores,
                # The evidence in each participant's own messages, which decides who is
                # reported between scores within 0.1 of the highest
                # (Assessment.suspects_ranked).
                "participant_evidence": assessment.responsibility,
            }
            if assessment
            else None
        ),
        indicators=indicators,
        custody=custody,
        chain_head=({"sequence": head.sequence, "hash": head.hash} if head else None),
        generated_at=generated_at,
        generated_by=_user(actor),
    )


def _label(key: str) -> str:
    try:
        return characteristics.get(key).label
    except KeyError:
        return key


def _description(key: str) -> str:
    try:
        return characteristics.get(key).description
    except KeyError:
        return ""


def _action_label(action: str) -> str:
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action
