"""The review page: one queue item's conversation, highlighted, with the decision form."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from review import presentation
from review.audit.services import audit_record
from review.decisions import selectors
from review.intake import selectors as intake_selectors
from review.models import (
    Assessment,
    AuditAction,
    Conversation,
    Message,
    Participant,
    QueueItem,
    Tenant,
)
from review.signin.client_ip import client_ip
from review.tenancy.access import ArtemisRequest
from scoring import characteristics


@dataclass(frozen=True, slots=True)
class Row:
    message: Message
    sender_label: str
    local: datetime
    offset: str
    keys: list[str]
    segments: list[presentation.Segment]
    highlighted: bool
    blurred: bool
    blur_reason: str


def _offset_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def message_row(
    message: Message,
    *,
    highlights: dict[str, dict[str, list[list[int]]]],
    scores: dict[str, dict[str, float]],
    labels: dict[int, str],
    revealed: set[int],
) -> Row:
    spans = highlights.get(message.external_id, {})
    keys = sorted(spans, key=lambda k: -scores.get(message.external_id, {}).get(k, 0.0))
    hidden = [k for k in keys if k in characteristics.BLURRED_KEYS]
    return Row(
        message=message,
        sender_label=labels.get(message.sender_id, message.sender.external_id),
        local=presentation.local_time(message.sent_at, message.utc_offset_minutes),
        offset=_offset_label(message.utc_offset_minutes),
        keys=keys,
        segments=presentation.segments(message.text, spans, scores.get(message.external_id, {})),
        highlighted=bool(keys),
        blurred=bool(hidden) and message.pk not in revealed,
        blur_reason=" or ".join(characteristics.get(k).label.lower() for k in hidden),
    )


def _highlight_maps(
    assessment: Assessment | None,
) -> tuple[dict[str, dict[str, list[list[int]]]], dict[str, dict[str, float]]]:
    spans: dict[str, dict[str, list[list[int]]]] = {}
    scores: dict[str, dict[str, float]] = {}
    for h in assessment.highlights if assessment else []:
        spans.setdefault(h["message"], {})[h["characteristic"]] = h["spans"]
        scores.setdefault(h["message"], {})[h["characteristic"]] = h["score"]
    return spans, scores


def participant_labels(participants: list[Participant]) -> dict[int, str]:
    return {p.pk: p.display_name or p.external_id for p in participants}


def review_context(
    request: ArtemisRequest,
    *,
    item: QueueItem,
    conversation: Conversation,
    revealed: set[int],
    as_of: datetime | None = None,
) -> dict[str, object]:
    """Everything the review page shows. With ``as_of``, the conversation as it stood then
    (messages received and scores made by that moment): what an earlier decider saw."""
    tenant = request.tenant
    if as_of is None:
        assessment = intake_selectors.assessment_latest(tenant=tenant, conversation=conversation)
    else:
        assessment = selectors.assessment_as_of(tenant=tenant, conversation=conversation, at=as_of)
    participants = intake_selectors.participant_list(tenant=tenant, conversation=conversation)
    labels = participant_labels(participants)
    spans, scores = _highlight_maps(assessment)
    messages = list(intake_selectors.message_list(tenant=tenant, conversation=conversation))
    if as_of is not None:
        messages = [m for m in messages if m.created_at <= as_of]
    rows = [
        message_row(m, highlights=spans, scores=scores, labels=labels, revealed=revealed)
        for m in messages
    ]
    pk_by_external = {m.external_id: m.pk for m in messages}
    summary = [
        {**asdict(line), "first_pk": pk_by_external.get(line.first_message)}
        for line in presentation.flag_summary(assessment.highlights if assessment else [])
    ]
    suspect = assessment.suspect_scores if assessment else {}
    earlier = selectors.decisions_about_participants(
        tenant=tenant,
        membership=request.membership,
        participants=participants,
        exclude_conversation=conversation,
    )
    if as_of is not None:
        earlier = {p: [d for d in ds if d.created_at <= as_of] for p, ds in earlier.items()}
    return {
        "tenant": tenant,
        "membership": request.membership,
        "item": item,
        "conversation": conversation,
        "assessment": assessment,
        "history": [
            a
            for a in intake_selectors.assessment_history(tenant=tenant, conversation=conversation)
            if as_of is None or a.scored_at <= as_of
        ],
        "rows": rows,
        "summary": summary,
        "participants": [
            {
                "participant": p,
                "label": labels[p.pk],
                "suspect_score": suspect.get(p.external_id),
                "earlier": earlier.get(p.pk, []),
            }
            for p in participants
        ],
        "legend": characteristics.CHARACTERISTICS,
    }


def transcript_view_record(
    request: ArtemisRequest, context: dict[str, object], **detail: object
) -> None:
    """Record that the member was shown the transcript in ``context`` (``review_context``).

    Every page that draws a transcript calls this each time it draws one, a form drawn again
    with its refusal included, so the trail holds every showing and not only the first.
    ``through_position`` and ``blurred`` are what was on screen: the last message shown and
    the ones kept hidden until revealed, so the trail can tell whether a person saw the
    whole transcript (NCMEC's fileViewedByEsp). ``detail`` names the page (``queue_item``,
    ``second_review``, ``appeal``, ``supervisor``)."""
    conversation: Conversation = context["conversation"]  # type: ignore[assignment]
    assessment: Assessment | None = context["assessment"]  # type: ignore[assignment]
    rows: list[Row] = context["rows"]  # type: ignore[assignment]
    audit_record(
        tenant=request.tenant,
        actor=request.user,
        action=AuditAction.VIEW,
        target_type="conversation",
        target_id=str(conversation.pk),
        detail={
            **detail,
            "messages": len(rows),
            "highlighted": len({h["message"] for h in assessment.highlights}) if assessment else 0,
            "through_position": rows[-1].message.position if rows else None,
            "blurred": [row.message.pk for row in rows if row.blurred],
        },
        ip=client_ip(request),
    )


def flagged_rows(
    *, tenant: Tenant, conversation: Conversation, as_of: datetime, revealed: set[int]
) -> list[Row]:
    """The conversation's flagged messages as they stood at ``as_of``, highlighted as the
    review page shows them (hidden ones stay hidden until revealed): a case's evidence, what
    the moderator who escalated it saw."""
    assessment = selectors.assessment_as_of(tenant=tenant, conversation=conversation, at=as_of)
    spans, scores = _highlight_maps(assessment)
    labels = participant_labels(
        intake_selectors.participant_list(tenant=tenant, conversation=conversation)
    )
    messages = intake_selectors.message_list(tenant=tenant, conversation=conversation).filter(
        external_id__in=list(spans), created_at__lte=as_of
    )
    return [
        message_row(m, highlights=spans, scores=scores, labels=labels, revealed=revealed)
        for m in messages
    ]
