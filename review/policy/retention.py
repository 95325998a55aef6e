"""Retention: purge conversations that never reached a human, once the tenant's retention
period has passed since their last activity.

Purged: conversations still pending or scored below the threshold, never flagged (no queue
item, no withdrawal from the queue), never decided, and not held by any case, whose last
activity (ingest of a message or a change of their data, ``updated_at``) is older than
``Tenant.retention_days``. Their messages and assessments go with them; so do participants
left with no conversation and no message, unless a case names them. Each run writes one
``RetentionRun`` per tenant (counts and ids, never text) and one audit event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from review.audit.services import audit_record
from review.cases import selectors
from review.models import (
    AuditAction,
    Case,
    Conversation,
    ConversationStatus,
    Decision,
    Message,
    Participant,
    QueueItem,
    QueueWithdrawal,
    RetentionRun,
    Tenant,
)

logger = logging.getLogger("artemis.retention")

# Conversations purged per tenant per run: one bounded transaction; the next run continues.
RUN_LIMIT = 5000


@dataclass
class RetentionResult:
    tenant: Tenant
    cutoff: datetime
    conversation_ids: list[int] = field(default_factory=list)
    conversation_external_ids: list[str] = field(default_factory=list)
    participant_ids: list[int] = field(default_factory=list)
    messages: int = 0
    held_by_case: int = 0
    more_due: bool = False
    run: RetentionRun | None = None


def _due(tenant: Tenant, cutoff: datetime) -> QuerySet[Conversation]:
    """Conversations past retention by age and by every rule except the case hold."""
    return (
        Conversation.objects.filter(
            tenant=tenant,
            status__in=(ConversationStatus.PENDING, ConversationStatus.SCORED),
            updated_at__lt=cutoff,
            created_at__lt=cutoff,
        )
        .filter(~Exists(QueueItem.objects.filter(conversation=OuterRef("pk"))))
        .filter(~Exists(Decision.objects.filter(conversation=OuterRef("pk"))))
        .filter(~Exists(QueueWithdrawal.objects.filter(conversation=OuterRef("pk"))))
        # A message stored after the cutoff is activity too, whatever updated_at says.
        .filter(
            ~Exists(Message.objects.filter(conversation=OuterRef("pk"), created_at__gte=cutoff))
        )
    )


def _purgeable(tenant: Tenant, cutoff: datetime) -> QuerySet[Conversation]:
    # Any case at all keeps its conversation: one that still holds it by status or
    # preservation date (the rule), and a closed one too (its record points at it).
    return (
        _due(tenant, cutoff)
        .exclude(pk__in=selectors.conversation_ids_held(tenant=tenant))
        .filter(~Exists(Case.objects.filter(conversation=OuterRef("pk"))))
    )


def retention_purge(
    *, tenant: Tenant, dry_run: bool = False, now: datetime | None = None, limit: int = RUN_LIMIT
) -> RetentionResult:
    """Purge the tenant's expired unflagged conversations (or, with ``dry_run``, only say
    which). One transaction: a run purges all it reports or nothing."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=tenant.retention_days)
    result = RetentionResult(tenant=tenant, cutoff=cutoff)
    with transaction.atomic():
        due = _due(tenant, cutoff)
        result.held_by_case = due.filter(
            Q(pk__in=selectors.conversation_ids_held(tenant=tenant))
            | Q(Exists(Case.objects.filter(conversation=OuterRef("pk"))))
        ).count()
        rows = list(
            _purgeable(tenant, cutoff)
            .select_for_update(skip_locked=True)
            .order_by("updated_at", "pk")
            .values_list("pk", "external_id")[: limit + 1]
        )
        result.more_due = len(rows) > limit
        rows = rows[:limit]
        result.conversation_ids = [pk for pk, _ in rows]
        result.conversation_external_ids = [external_id for _, external_id in rows]
        through = Conversation.participants.through
        touched = set(
            through.objects.filter(conversation_id__in=result.conversation_ids).values_list(
                "participant_id", flat=True
            )
        ) | set(
            Message.objects.filter(conversation_id__in=result.conversation_ids).values_list(
                "sender_id", flat=True
            )
        )
        result.messages = Message.objects.filter(
            conversation_id__in=result.conversation_ids
        ).count()
        if dry_run:
            result.participant_ids = sorted(_orphans(tenant, touched, result.conversation_ids))
            return result
        Conversation.objects.filter(pk__in=result.conversation_ids).delete()
        result.participant_ids = sorted(_orphans(tenant, touched, []))
        Participant.objects.filter(pk__in=result.participant_ids).delete()
        result.run = RetentionRun.objects.create(
            tenant=tenant,
            ran_at=now,
            retention_days=tenant.retention_days,
            cutoff=cutoff,
            conversations_purged=len(result.conversation_ids),
            messages_purged=result.messages,
            participants_purged=len(result.participant_ids),
            conversation_ids=result.conversation_ids,
            conversation_external_ids=result.conversation_external_ids,
            participant_ids=result.participant_ids,
            held_by_case=result.held_by_case,
            more_due=result.more_due,
        )
        audit_record(
            tenant=tenant,
            actor=None,
            action=AuditAction.RETENTION_PURGE,
            target_type="retention_run",
            target_id=str(result.run.pk),
            detail={
                "retention_days": tenant.retention_days,
                "cutoff": cutoff.isoformat(),
                "conversations": len(result.conversation_ids),
                "messages": result.messages,
                "participants": len(result.participant_ids),
                "held_by_case": result.held_by_case,
                "more_due": result.more_due,
            },
            actor_label="retention",
        )
    logger.info(
        "retention tenant=%s purged conversations=%d messages=%d participants=%d held=%d",
        tenant.pk,
        len(result.conversation_ids),
        result.messages,
        len(result.participant_ids),
        result.held_by_case,
    )
    return result


def _orphans(tenant: Tenant, candidates: set[int], going: list[int]) -> set[int]:
    """Of ``candidates``, the participants with no conversation and no message left once
    the conversations ``going`` are gone, and whom no case names."""
    through = Conversation.participants.through
    keep = set(
        through.objects.filter(participant_id__in=candidates)
        .exclude(conversation_id__in=going)
        .values_list("participant_id", flat=True)
    )
    keep |= set(
        Message.objects.filter(sender_id__in=candidates)
        .exclude(conversation_id__in=going)
        .values_list("sender_id", flat=True)
    )
    named = Case.objects.filter(tenant=tenant).filter(
        Q(reported_participant_id__in=candidates) | Q(victim_participant_id__in=candidates)
    )
    keep |= set(named.values_list("reported_participant_id", flat=True))
    keep |= set(named.values_list("victim_participant_id", flat=True))
    return {
        pk
        for pk in Participant.objects.filter(tenant=tenant, pk__in=candidates).values_list(
            "pk", flat=True
        )
        if pk not in keep
    }


def retention_purge_all(*, dry_run: bool = False) -> list[RetentionResult]:
    """Run retention for every tenant (the periodic task; it acts as the platform)."""
    return [
        retention_purge(tenant=tenant, dry_run=dry_run) for tenant in Tenant.objects.order_by("pk")
    ]
