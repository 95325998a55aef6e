"""What a moderator does to an item: decide, reveal a hidden message."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from review.appeals.superseded import appeal_close_superseded
from review.audit.services import audit_record
from review.cases.services import case_open
from review.models import (
    ACCOUNT_ACTIONS,
    ESCALATIONS,
    REASON_CODES,
    AuditAction,
    ConversationStatus,
    Decision,
    Message,
    QueueItem,
    QueueStatus,
    ReviewError,
    Tenant,
    Verdict,
)
from review.outbound.webhooks import webhook_enqueue
from review.queue.services import held_by


def decision_check(*, verdict: str, reason_code: str) -> None:
    """Raise ReviewError unless the verdict exists and the reason code goes with it."""
    if verdict not in Verdict.values:
        raise ReviewError(f"unknown verdict {verdict!r}", code="invalid")
    label, allowed = REASON_CODES.get(reason_code, ("", frozenset()))
    if not label:
        raise ReviewError(f"unknown reason code {reason_code!r}", code="invalid")
    if verdict not in allowed:
        raise ReviewError(
            f"reason {label!r} does not go with {Verdict(verdict).label.lower()!r}", code="invalid"
        )


@transaction.atomic
def decision_create(
    *,
    item: QueueItem,
    moderator: AbstractBaseUser,
    verdict: str,
    reason_code: str,
    notes: str = "",
) -> Decision:
    """Record the moderator's decision on the item they hold, close the item, audit it.
    The conversation leaves the queue; a supervisor question keeps it flagged."""
    decision_check(verdict=verdict, reason_code=reason_code)
    locked = held_by(item, moderator)
    now = timezone.now()
    # Locked: an appeal of it may be being decided at this moment (decision before appeal,
    # the order every appeal outcome locks in).
    earlier = (
        Decision.objects.select_for_update(of=("self",))
        .filter(conversation=locked.conversation, superseded_by__isnull=True)
        .order_by("-created_at")
        .first()
    )
    decision = Decision.objects.create(
        tenant=locked.tenant,
        queue_item=locked,
        conversation=locked.conversation,
        moderator=moderator,
        verdict=verdict,
        reason_code=reason_code,
        notes=notes,
        supersedes=earlier,
        created_at=now,
    )
    locked.status = QueueStatus.DECIDED
    locked.closed_at = now
    locked.lease_expires_at = None
    locked.save(update_fields=["status", "closed_at", "lease_expires_at"])
    conversation = locked.conversation
    conversation.status = (
        ConversationStatus.FLAGGED
        if verdict == Verdict.ASK_SUPERVISOR
        else ConversationStatus.REVIEWED
    )
    conversation.save(update_fields=["status"])
    audit_record(
        tenant=locked.tenant,
        actor=moderator,
        action=AuditAction.DECISION,
        target_type="conversation",
        target_id=str(conversation.pk),
        detail={
            "decision": decision.pk,
            "queue_item": locked.pk,
            "verdict": verdict,
            "reason_code": reason_code,
            "supersedes": earlier.pk if earlier else None,
            "has_notes": bool(notes),
        },
    )
    decision_carry_out(decision=decision)
    if earlier is not None:
        # An open appeal of the replaced decision is answered by this one.
        appeal_close_superseded(decision=earlier, new_decision=decision, by=moderator)
    # Imported here: second_review builds on this module's checks.
    from review.decisions.second_review import second_review_offer

    second_review_offer(decision=decision)
    return decision


def decision_carry_out(*, decision: Decision, webhook: bool = True) -> None:
    """What a verdict sets going, whoever gave it (a moderator, or a supervisor answering a
    question or a disagreement): the platform's webhook for an account action, a draft case
    for an escalation. Runs inside the decision's transaction. ``webhook=False``: the
    caller tells the platform itself (an appeal's outcome carries its new decision)."""
    if webhook and decision.verdict in ACCOUNT_ACTIONS:
        webhook_enqueue(decision=decision)
    if decision.verdict in ESCALATIONS:
        case_open(decision=decision)


def message_reveal(*, tenant: Tenant, moderator: AbstractBaseUser, message: Message) -> None:
    """Audit that a moderator chose to see a message the UI had hidden."""
    if message.conversation.tenant_id != tenant.pk:
        raise ReviewError("no such message", code="not_found")
    audit_record(
        tenant=tenant,
        actor=moderator,
        action=AuditAction.REVEAL,
        target_type="message",
        target_id=str(message.pk),
        detail={"conversation": message.conversation_id},
    )
