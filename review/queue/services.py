"""The moderation queue: which assessments enter it and in what order, claims, and the
folding of the queue page's count deltas.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from review.audit.services import audit_record
from review.bulk import rows_update
from review.models import (
    Assessment,
    AuditAction,
    Conversation,
    ConversationStatus,
    Decision,
    QueueCount,
    QueueItem,
    QueueSkip,
    QueueStatus,
    QueueWithdrawal,
    Tenant,
)
from review.queue.leases import (
    QUEUE_ITEM,
    lease_free_q,
    lease_held,
    lease_live_q,
    lease_next,
    lease_release,
    lease_renew,
)
from scoring import characteristics

# One hour of waiting is worth this much priority (priority runs 0 to 2): a 0.6 item that
# has waited a day comes before a fresh 0.9 one, so nothing waits for ever.
AGE_WEIGHT = 0.05
# The release reason of a skip (the review page's "Skip"), which also records a QueueSkip.
SKIPPED = "skipped"


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
    return characteristics.bits(assessment.flagged_characteristics)


def _item_build(
    *, tenant: Tenant, conversation: Conversation, assessment: Assessment, now: datetime
) -> QueueItem:
    priority, urgent = queue_priority(tenant=tenant, assessment=assessment)
    return QueueItem(
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


def _item_create(
    *, tenant: Tenant, conversation: Conversation, assessment: Assessment, now: datetime
) -> QueueItem:
    item = _item_build(tenant=tenant, conversation=conversation, assessment=assessment, now=now)
    item.save(force_insert=True)
    return item


_REFRESHED = [
    "assessment",
    "priority",
    "probability",
    "rank",
    "urgent",
    "characteristics",
    "characteristic_bits",
]


def _item_refresh(
    item: QueueItem, *, tenant: Tenant, assessment: Assessment, keep_higher: bool
) -> QueueItem:
    """Point an open item at ``assessment`` and recompute its priority and urgency.

    ``keep_higher``: a rescore never lowers either (the item already looked that pressing);
    a policy change recomputes both from scratch, since its weights may have gone down."""
    priority, urgent = queue_priority(tenant=tenant, assessment=assessment)
    item.assessment = assessment
    item.probability = assessment.probability
    item.priority = max(item.priority, priority) if keep_higher else priority
    item.rank = queue_rank(priority=item.priority, enqueued_at=item.enqueued_at)
    item.urgent = (item.urgent or urgent) if keep_higher else urgent
    item.characteristics = characteristic_tags(assessment)
    item.characteristic_bits = characteristic_bits(assessment)
    return item


def queue_item_offer(*, conversation: Conversation, assessment: Assessment) -> QueueItem | None:
    """Put a conversation in the queue when its new assessment reaches the tenant's threshold,
    or refresh the open item it already has. Returns the open item, if any.

    A lower rescore never takes an item out of the queue: once a conversation looked risky
    enough for a human, a human decides (thresholds changed by an admin are another matter:
    see ``queue_reevaluate``). Call inside a transaction holding the conversation's row lock.
    """
    return queue_items_offer(offers=[(conversation, assessment)]).get(conversation.pk)


def queue_items_offer(*, offers: Sequence[tuple[Conversation, Assessment]]) -> dict[int, QueueItem]:
    """``queue_item_offer`` for many conversations (each once) in three statements whatever
    their number: one read of their open items, one insert of the new ones, one update of
    the refreshed ones. Sets the status of each conversation that has an open item to
    flagged (unsaved). Returns the open items by conversation id. Call inside a transaction
    holding the conversations' row locks; each conversation's ``tenant`` is the policy read
    under its lock."""
    if not offers:
        return {}
    open_items: dict[int, QueueItem] = {}
    for item in (
        QueueItem.objects.filter(conversation_id__in=[c.pk for c, _ in offers])
        .exclude(status=QueueStatus.DECIDED)
        .order_by("pk")
    ):
        open_items.setdefault(item.conversation_id, item)
    now = timezone.now()
    created: list[QueueItem] = []
    refreshed: list[QueueItem] = []
    offered: dict[int, QueueItem] = {}
    for conversation, assessment in offers:
        tenant = conversation.tenant
        item = open_items.get(conversation.pk)
        if item is None and assessment.probability < tenant.flag_threshold:
            continue
        if item is None:
            item = _item_build(
                tenant=tenant, conversation=conversation, assessment=assessment, now=now
            )
            created.append(item)
        else:
            _item_refresh(item, tenant=tenant, assessment=assessment, keep_higher=True)
            refreshed.append(item)
        conversation.status = ConversationStatus.FLAGGED
        offered[conversation.pk] = item
    if created:
        QueueItem.objects.bulk_create(created)
    rows_update(refreshed, _REFRESHED)
    return offered


@dataclass(frozen=True)
class Reevaluation:
    entered: int
    left: int
    updated: int
    deferred: int

    def as_dict(self) -> dict[str, int]:
        return {
            "entered": self.entered,
            "left": self.left,
            "updated": self.updated,
            "deferred": self.deferred,
        }


def _latest_assessment_id(outer: str) -> Subquery:
    return Subquery(
        Assessment.objects.filter(conversation=OuterRef(outer))
        .order_by("-scored_at", "-pk")
        .values("pk")[:1]
    )


def _withdraw(
    items: list[QueueItem], *, tenant: Tenant, now: datetime, policy_version: object
) -> None:
    """Take open items out of the queue: delete them, keep a withdrawal row each, and put
    their conversations back to scored (or reviewed, if decided before)."""
    if not items:
        return
    QueueWithdrawal.objects.bulk_create(
        [
            QueueWithdrawal(
                tenant=tenant,
                conversation_id=item.conversation_id,
                queue_item_id=item.pk,
                probability=item.probability,
                enqueued_at=item.enqueued_at,
                withdrawn_at=now,
                policy_version=policy_version,
            )
            for item in items
        ],
        batch_size=1000,
    )
    conversation_ids = [item.conversation_id for item in items]
    QueueItem.objects.filter(pk__in=[item.pk for item in items]).delete()
    decided = Exists(Decision.objects.filter(conversation=OuterRef("pk")))
    conversations = Conversation.objects.filter(tenant=tenant, pk__in=conversation_ids)
    conversations.filter(decided).update(status=ConversationStatus.REVIEWED)
    conversations.filter(~decided).update(status=ConversationStatus.SCORED)


def queue_reevaluate(
    *, tenant: Tenant, flag_lowered: bool, policy_version: object = None
) -> Reevaluation:
    """Apply the tenant's current thresholds and severity weights to the queue, without
    rescoring: from each conversation's latest assessment, open items stay (re-prioritised)
    or leave, and conversations that never reached the queue enter it if they now qualify.

    Items claimed under a live lease are left alone and marked ``policy_pending``: they are
    re-evaluated when released (a decision closes them first, and decided items never
    change). Run inside the transaction that changed the policy, holding the tenant's lock.
    ``flag_lowered``: only then can a conversation below the old threshold enter.
    """
    now = timezone.now()
    deferred = (
        QueueItem.objects.filter(tenant=tenant)
        .filter(lease_live_q(QUEUE_ITEM, now=now))
        .update(policy_pending=True)
    )
    # Waiting items, and claimed ones whose lease ran out (back in the queue in all but name).
    items = list(
        QueueItem.objects.select_for_update()
        .filter(tenant=tenant)
        .filter(lease_free_q(QUEUE_ITEM, now=now))
        .annotate(latest_id=_latest_assessment_id("conversation"))
    )
    latest = Assessment.objects.in_bulk([item.latest_id for item in items if item.latest_id])
    leaving, staying = [], []
    for item in items:
        assessment = latest.get(item.latest_id) or item.assessment
        if assessment.probability < tenant.flag_threshold:
            leaving.append(item)
        else:
            staying.append(
                _item_refresh(item, tenant=tenant, assessment=assessment, keep_higher=False)
            )
    rows_update(staying, _REFRESHED)
    _withdraw(leaving, tenant=tenant, now=now, policy_version=policy_version)

    entered = 0
    if flag_lowered:
        # Scored, never decided, no open item: the ones a lower threshold can let in.
        candidates = (
            Conversation.objects.select_for_update(of=("self",))
            .filter(tenant=tenant, status=ConversationStatus.SCORED)
            .filter(~Exists(Decision.objects.filter(conversation=OuterRef("pk"))))
            .filter(
                ~Exists(
                    QueueItem.objects.filter(conversation=OuterRef("pk")).exclude(
                        status=QueueStatus.DECIDED
                    )
                )
            )
            .annotate(latest_id=_latest_assessment_id("pk"))
            .filter(latest_id__isnull=False)
        )
        rows = list(candidates)
        assessments = Assessment.objects.in_bulk([c.latest_id for c in rows])
        for conversation in rows:
            assessment = assessments[conversation.latest_id]
            if assessment.probability >= tenant.flag_threshold:
                _item_create(
                    tenant=tenant, conversation=conversation, assessment=assessment, now=now
                )
                conversation.status = ConversationStatus.FLAGGED
                conversation.save(update_fields=["status"])
                entered += 1
    return Reevaluation(entered=entered, left=len(leaving), updated=len(staying), deferred=deferred)


def queue_item_claim_next(*, tenant: Tenant, moderator: AbstractBaseUser) -> QueueItem | None:
    """Lease the most pressing unclaimed item (or one whose lease ran out) to ``moderator``.

    Two moderators never get the same item (``lease_next``); a moderator who already
    holds a live lease gets that item back instead of a second one.

    Items she skipped (``QueueSkip``, live for one lease period) come last in her line only:
    she gets every other free item first. When nothing but her skipped items is left she
    gets those again, the one skipped longest ago first, rather than hearing "the queue is
    empty" while items wait: a skip says "not now, not me first", never "not me". Others
    take them in their usual order.
    """
    now = timezone.now()
    items = QueueItem.objects.filter(tenant=tenant)
    skipped = QueueSkip.objects.filter(moderator=moderator, until__gt=now, item__tenant=tenant)
    row = lease_next(
        items.exclude(pk__in=skipped.values("item_id")),
        lease=QUEUE_ITEM,
        holder=moderator,
        order_by=("-urgent", "-rank"),
        tenant=tenant,
        own=items,
    )
    if row is not None:
        return row
    skipped_at = skipped.filter(item=OuterRef("pk")).values("until")[:1]
    return lease_next(
        items.filter(pk__in=skipped.values("item_id")).annotate(skipped_until=Subquery(skipped_at)),
        lease=QUEUE_ITEM,
        holder=moderator,
        order_by=("skipped_until", "-urgent", "-rank"),
        tenant=tenant,
        own=items,
    )


def held_by(item: QueueItem, moderator: AbstractBaseUser) -> QueueItem:
    """The item locked, if ``moderator``'s lease on it is live; else LeaseError."""
    return lease_held(QueueItem.objects.filter(pk=item.pk), lease=QUEUE_ITEM, holder=moderator)


def queue_item_renew(*, item: QueueItem, moderator: AbstractBaseUser) -> QueueItem:
    """Extend the lease while the review page stays open."""
    return lease_renew(QueueItem.objects.filter(pk=item.pk), lease=QUEUE_ITEM, holder=moderator)


@transaction.atomic
def queue_item_release(*, item: QueueItem, moderator: AbstractBaseUser, reason: str) -> QueueItem:
    """Give the item back to the queue, audited with the reason. A skip (``reason`` is
    "skipped") also puts it at the back of ``moderator``'s line for one lease period
    (``queue_item_claim_next``)."""
    locked = lease_release(held_by(item, moderator), lease=QUEUE_ITEM)
    if reason == SKIPPED:
        now = timezone.now()
        QueueSkip.objects.filter(moderator=moderator, until__lte=now).delete()
        QueueSkip.objects.update_or_create(
            item=locked, moderator=moderator, defaults={"until": now + QUEUE_ITEM.duration}
        )
    left_queue = locked.policy_pending and _apply_pending_policy(locked)
    audit_record(
        tenant=locked.tenant,
        actor=moderator,
        action=AuditAction.RELEASE,
        target_type="queue_item",
        target_id=str(item.pk),
        detail={"reason": reason, **({"left_queue": True} if left_queue else {})},
    )
    return locked


def _apply_pending_policy(item: QueueItem) -> bool:
    """A policy changed while the item was claimed: apply it now, as the change would have.
    Returns whether the item left the queue."""
    tenant = item.tenant
    assessment = (
        Assessment.objects.filter(conversation_id=item.conversation_id)
        .order_by("-scored_at", "-pk")
        .first()
    ) or item.assessment
    item.policy_pending = False
    if assessment.probability < tenant.flag_threshold:
        _withdraw([item], tenant=tenant, now=timezone.now(), policy_version=None)
        return True
    _item_refresh(item, tenant=tenant, assessment=assessment, keep_higher=False)
    item.save(update_fields=[*_REFRESHED, "policy_pending"])
    return False


GroupKey = tuple[int, str, int, str]


@transaction.atomic
def queue_counts_compact() -> int:
    """Replace every tenant's count deltas with their sums, one row per group that is not
    zero; returns how many rows were folded.

    DELETE ... RETURNING takes exactly the rows it removes, so a delta that a concurrent
    transaction appends meanwhile (and commits after this one has read) is neither lost
    nor counted twice: it stays behind for the next run."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM review_queuecount"
            " RETURNING tenant_id, status, characteristic_bits, band, n"
        )
        rows = cursor.fetchall()
    sums: Counter[GroupKey] = Counter()
    for tenant_id, status, bits, band, n in rows:
        sums[(tenant_id, status, bits, band)] += n
    QueueCount.objects.bulk_create(
        [
            QueueCount(tenant_id=tenant_id, status=status, characteristic_bits=bits, band=band, n=n)
            for (tenant_id, status, bits, band), n in sums.items()
            if n
        ],
        batch_size=1000,
    )
    return len(rows)
