"""The moderation queue: which assessments enter it and in what order."""

from __future__ import annotations

from django.utils import timezone

from review.models import (
    Assessment,
    Conversation,
    ConversationStatus,
    QueueItem,
    QueueStatus,
    Tenant,
)
from scoring import characteristics


def queue_priority(*, tenant: Tenant, assessment: Assessment) -> tuple[float, bool]:
    """Static part of an item's priority, and whether it is urgent.

    Probability counts most; the severity weights (tenant-tunable) of the characteristics a
    moderator will see highlighted raise it. Waiting time is added at read time, since it
    grows while the item waits. Urgent items (a planned meeting, a media request, coercion, or
    a probability past the urgent threshold) jump the line.
    """
    weights = tenant.severity_weights or {}
    present = {h["characteristic"] for h in assessment.highlights}
    severity = sum(float(weights.get(key, characteristics.get(key).severity)) for key in present)
    max_severity = (
        sum(float(weights.get(c.key, c.severity)) for c in characteristics.CHARACTERISTICS) or 1.0
    )
    priority = assessment.probability * (1.0 + severity / max_severity)
    urgent = assessment.probability >= tenant.urgent_threshold or bool(
        present & characteristics.URGENT_KEYS
    )
    return round(priority, 6), urgent


def queue_item_offer(*, conversation: Conversation, assessment: Assessment) -> QueueItem | None:
    """Put a conversation in the queue when its new assessment reaches the tenant's threshold,
    or refresh the open item it already has. Returns the open item, if any.

    A lower rescore never takes an item out of the queue: once a conversation looked risky
    enough for a human, a human decides (thresholds changed by an admin are another matter).
    Call inside a transaction holding the conversation's row lock.
    """
    tenant = conversation.tenant
    item = (
        QueueItem.objects.filter(conversation=conversation)
        .exclude(status=QueueStatus.DECIDED)
        .first()
    )
    if item is None and assessment.probability < tenant.flag_threshold:
        return None
    priority, urgent = queue_priority(tenant=tenant, assessment=assessment)
    if item is None:
        item = QueueItem.objects.create(
            tenant=tenant,
            conversation=conversation,
            assessment=assessment,
            priority=priority,
            urgent=urgent,
            enqueued_at=timezone.now(),
        )
    else:
        item.assessment = assessment
        item.priority = max(item.priority, priority)
        item.urgent = item.urgent or urgent
        item.save(update_fields=["assessment", "priority", "urgent"])
    conversation.status = ConversationStatus.FLAGGED
    return item
