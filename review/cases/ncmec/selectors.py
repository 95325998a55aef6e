"""Reads for the NCMEC submission. Each takes the tenant, like every selector."""

from __future__ import annotations

from review.audit.selectors import audit_events_of
from review.models import (
    AuditAction,
    AuditEvent,
    Case,
    Conversation,
    NcmecSubmission,
    Tenant,
)


def ncmec_submission_get(*, tenant: Tenant, case: Case) -> NcmecSubmission | None:
    return NcmecSubmission.objects.filter(tenant=tenant, case=case).first()


def transcript_views(*, tenant: Tenant, conversation: Conversation) -> list[AuditEvent]:
    """Review-page views of the conversation by a person (not the system), oldest first."""
    return audit_events_of(
        tenant=tenant,
        action=AuditAction.VIEW,
        target_type="conversation",
        target_id=conversation.pk,
        by_people=True,
    )


def revealed_message_ids(*, tenant: Tenant, conversation: Conversation) -> dict[int, set[int]]:
    """Per person: the ids of the conversation's hidden messages they chose to reveal."""
    out: dict[int, set[int]] = {}
    reveals = AuditEvent.objects.filter(
        tenant=tenant,
        action=AuditAction.REVEAL,
        target_type="message",
        actor__isnull=False,
        detail__conversation=conversation.pk,
    ).values_list("actor_id", "target_id")
    for actor_id, target_id in reveals:
        out.setdefault(actor_id, set()).add(int(target_id))
    return out
