"""A supervisor's answer: a decision that supersedes the conversation's current one, for a
question ("ask a supervisor") or a second-review disagreement.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from review.appeals.superseded import appeal_close_superseded
from review.audit.services import audit_record
from review.decisions.second_review import disagreement_resolve
from review.decisions.services import decision_carry_out, decision_check
from review.models import (
    AuditAction,
    ConversationStatus,
    Decision,
    QueueItem,
    QueueStatus,
    ReviewError,
    SecondReview,
    Tenant,
    Verdict,
)


@transaction.atomic
def decision_supersede(
    *,
    tenant: Tenant,
    current: Decision,
    supervisor: AbstractBaseUser,
    verdict: str,
    reason_code: str,
    notes: str = "",
    appeal: int | None = None,
) -> Decision:
    """Record the supervisor's decision on ``current``'s conversation, superseding it.

    ``appeal``: the id of the appeal this decision overturns ``current`` on (the appeal's
    reviewer, who may be a moderator, decides); the appeal's webhook tells the platform, so
    the decision sends none of its own.

    ``current`` is the decision the supervisor was shown; if someone decided in the
    meantime, this refuses rather than silently superseding a decision they never saw.
    Open second-review disagreements on the conversation are resolved by it, and an open
    appeal of ``current`` (other than ``appeal``) is closed as answered by it.
    """
    if verdict == Verdict.ASK_SUPERVISOR:
        raise ReviewError("you are the supervisor here: choose a verdict", code="invalid")
    decision_check(verdict=verdict, reason_code=reason_code)
    try:
        locked = (
            Decision.objects.select_for_update(of=("self",))
            .select_related("conversation", "queue_item")
            .get(tenant=tenant, pk=current.pk)
        )
    except Decision.DoesNotExist:
        raise ReviewError("no such decision", code="not_found") from None
    if Decision.objects.filter(supersedes=locked).exists():
        raise ReviewError(
            "someone decided on this conversation in the meantime; read the latest decision first"
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                tenant=tenant,
                # The queue item the superseded decision closed: the supervisor answers it.
                queue_item=locked.queue_item,
                conversation=locked.conversation,
                moderator=supervisor,
                verdict=verdict,
                reason_code=reason_code,
                notes=notes,
                supersedes=locked,
                created_at=now,
            )
    except IntegrityError:
        # A moderator's decision on a new queue item took the same place in the chain.
        raise ReviewError(
            "someone decided on this conversation in the meantime; read the latest decision first"
        ) from None
    conversation = locked.conversation
    still_queued = QueueItem.objects.filter(
        tenant=tenant,
        conversation=conversation,
        status__in=(QueueStatus.WAITING, QueueStatus.CLAIMED),
    ).exists()
    conversation.status = (
        ConversationStatus.FLAGGED if still_queued else ConversationStatus.REVIEWED
    )
    conversation.save(update_fields=["status"])
    audit_record(
        tenant=tenant,
        actor=supervisor,
        action=AuditAction.DECISION,
        target_type="conversation",
        target_id=str(conversation.pk),
        detail={
            "decision": decision.pk,
            "queue_item": locked.queue_item_id,
            "verdict": verdict,
            "reason_code": reason_code,
            "supersedes": locked.pk,
            "answers": locked.verdict,
            "by_supervisor": appeal is None,
            "has_notes": bool(notes),
            **({"appeal": appeal} if appeal is not None else {}),
        },
    )
    open_disagreements = SecondReview.objects.filter(
        tenant=tenant, conversation=conversation, agrees=False, resolved_at__isnull=True
    )
    for review in open_disagreements:
        disagreement_resolve(review=review, supervisor=supervisor, decision=decision)
    decision_carry_out(decision=decision, webhook=appeal is None)
    if appeal is None:
        # An open appeal of the replaced decision is answered by this one.
        appeal_close_superseded(decision=locked, new_decision=decision, by=supervisor)
    return decision
