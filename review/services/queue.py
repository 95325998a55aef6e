"""The moderation queue: which assessments enter it and in what order."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from review.models import (
    Assessment,
    AuditAction,
    Conversation,
    ConversationStatus,
    QueueItem,
    QueueStatus,
    ReviewError,
    Tenant,
)
from review.services.audit import audit_record
from scoring import characteristics

LEASE = timedelta(minutes=10)
# One hour of waiting is worth this much priority (priority runs 0 to 2): a 0.6 item that
# has waited a day comes before a fresh 0.9 one, so nothing waits for ever.
AGE_WEIGHT = 0.05


def queue_rank(*, priority: float, enqueued_at: datetime) -> float:
    """priority + AGE_WEIGHT x hours waiting, minus the same for everyone at read time:
    stored once, it orders the queue by waiting-adjusted priority through a plain index."""
    return priority - AGE_WEIGHT * enqueued_at.timestamp() / 3600


def queue_priority(*, tenant: Tenant, assessment: Assessment) -> tuple[float, bool]:
    """Static part of an item's priority, and whether it is urgent.

    Probability counts most; the severity weights (tenant-tunable) of the characteristics a
    moderator will see highlighted raise it. Waiting time enters through ``queue_rank``.
    Urgent items (a planned meeting, a media request, coercion, or
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


def characteristic_tags(assessment: Assessment) -> str:
    keys = assessment.flagged_characteristics
    return f",{','.join(keys)}," if keys else ""


def characteristic_bits(assessment: Assessment) -> int:
    return sum(1 << characteristics.KEYS.index(k) for k in assessment.flagged_characteristics)


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
        now = timezone.now()
        item = QueueItem.objects.create(
            tenant=tenant,
            conversation=conversation,
            assessment=assessment,
            priority=priority,
            probability=assessment.probability,
            rank=queue_rank(priority=priority, enqueued_at=now),
            urgent=urgent,
            characteristics=characteristic_tags(assessment),
            characteristic_bits=characteristic_bits(assessment),
            enqueued_at=now,
        )
    else:
        item.assessment = assessment
        item.probability = assessment.probability
        item.priority = max(item.priority, priority)
        item.rank = queue_rank(priority=item.priority, enqueued_at=item.enqueued_at)
        item.urgent = item.urgent or urgent
        item.characteristics = characteristic_tags(assessment)
        item.characteristic_bits = characteristic_bits(assessment)
        item.save(
            update_fields=[
                "assessment",
                "priority",
                "probability",
                "rank",
                "urgent",
                "characteristics",
                "characteristic_bits",
            ]
        )
    conversation.status = ConversationStatus.FLAGGED
    return item


def queue_item_claim_next(*, tenant: Tenant, moderator: AbstractBaseUser) -> QueueItem | None:
    """Lease the most pressing unclaimed item (or one whose lease ran out) to ``moderator``.

    SELECT ... FOR UPDATE SKIP LOCKED: concurrent claimers each lock a different row and
    never wait on one another, so two moderators never get the same item. A moderator who
    already holds a live lease gets that item back instead of a second one.
    """
    now = timezone.now()
    with transaction.atomic():
        held = (
            QueueItem.objects.filter(
                tenant=tenant,
                status=QueueStatus.CLAIMED,
                claimed_by=moderator,
                lease_expires_at__gt=now,
            )
            .order_by("lease_expires_at")
            .first()
        )
        if held is not None:
            return held
        # Two index-served queries rather than one OR (which would sort every waiting row):
        # items whose lease ran out go first (they were the most pressing when taken), then
        # the best waiting one.
        candidates = QueueItem.objects.select_for_update(skip_locked=True).filter(tenant=tenant)
        item = (
            candidates.filter(status=QueueStatus.CLAIMED, lease_expires_at__lte=now)
            .order_by("-urgent", "-rank")
            .first()
        ) or candidates.filter(status=QueueStatus.WAITING).order_by("-urgent", "-rank").first()
        if item is None:
            return None
        previous = item.claimed_by_id if item.status == QueueStatus.CLAIMED else None
        item.status = QueueStatus.CLAIMED
        item.claimed_by = moderator
        item.lease_expires_at = now + LEASE
        item.save(update_fields=["status", "claimed_by", "lease_expires_at"])
        audit_record(
            tenant=tenant,
            actor=moderator,
            action=AuditAction.CLAIM,
            target_type="queue_item",
            target_id=str(item.pk),
            detail={"conversation": item.conversation_id, "expired_lease_of": previous},
        )
    return item


def held_by(item: QueueItem, moderator: AbstractBaseUser) -> QueueItem:
    locked = QueueItem.objects.select_for_update().get(pk=item.pk)
    if locked.status != QueueStatus.CLAIMED or locked.claimed_by_id != moderator.pk:
        raise ReviewError("this item is not leased to you; take it from the queue first")
    if locked.lease_expires_at is None or locked.lease_expires_at <= timezone.now():
        raise ReviewError("your lease on this item ran out; take it from the queue again")
    return locked


@transaction.atomic
def queue_item_renew(*, item: QueueItem, moderator: AbstractBaseUser) -> QueueItem:
    """Extend the lease while the review page stays open."""
    locked = held_by(item, moderator)
    locked.lease_expires_at = timezone.now() + LEASE
    locked.save(update_fields=["lease_expires_at"])
    return locked


@transaction.atomic
def queue_item_release(*, item: QueueItem, moderator: AbstractBaseUser, reason: str) -> QueueItem:
    """Give the item back to the queue (a skip), audited with the reason."""
    locked = held_by(item, moderator)
    locked.status = QueueStatus.WAITING
    locked.claimed_by = None
    locked.lease_expires_at = None
    locked.save(update_fields=["status", "claimed_by", "lease_expires_at"])
    audit_record(
        tenant=locked.tenant,
        actor=moderator,
        action=AuditAction.RELEASE,
        target_type="queue_item",
        target_id=str(locked.pk),
        detail={"reason": reason},
    )
    return locked
