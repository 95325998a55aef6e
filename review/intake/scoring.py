"""The bridge between the ORM and the scoring engine: rows to engine inputs, scores back to
assessments and the queue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from review.models import Assessment, Conversation, ConversationStatus, Message, Participant
from review.outbound.outbox import outbox_add
from review.queue.services import queue_item_offer
from review.tenancy.services import tenant_lock_policy
from scoring import services as scoring_services
from scoring import types as st

logger = logging.getLogger("artemis.scoring")

# Conversation ids per task: big enough to keep broker round trips off the ingest path,
# small enough that several workers share a large batch.
TASK_CHUNK = 25


def _enqueue(conversation_ids: Sequence[int]) -> None:
    """Owe the scoring tasks through the outbox, in the caller's transaction: they are sent
    once it commits (a worker must never look for rows that are not visible yet), or by the
    outbox sweep if the broker is down then."""
    from review.tasks import score_conversations  # tasks import services, not the reverse

    ids = list(conversation_ids)
    outbox_add(
        task=score_conversations,
        calls=[[ids[start : start + TASK_CHUNK]] for start in range(0, len(ids), TASK_CHUNK)],
    )


def conversations_request_score(*, conversation_ids: Sequence[int]) -> None:
    """Record that these conversations owe a score, and owe the scoring task for those that
    have none waiting. Call inside the caller's transaction.

    A conversation whose task is still queued (score_enqueued_at set) gets no second one: that
    task has not read the messages yet, so it covers this content too. A worker clears the
    mark as it starts (conversation_score's claim), so content after the claim is sent again.
    """
    if not conversation_ids:
        return
    now = timezone.now()
    owed = Conversation.objects.filter(pk__in=conversation_ids)
    # The update locks the rows until commit; on PostgreSQL a worker's claim of one of them
    # waits for it, so the select below sees either the claim or a task still waiting.
    owed.update(score_requested_at=now)
    unsent = list(
        owed.filter(score_enqueued_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    if unsent:
        Conversation.objects.filter(pk__in=unsent).update(score_enqueued_at=now)
        _enqueue(unsent)


def content_fingerprint(
    *, messages: Sequence[Message], participants: Sequence[st.Participant], model_version: str
) -> str:
    """SHA-256 over everything the score depends on: the model, the participants' declared
    facts and each message. Unchanged fingerprint, unchanged score: nothing is written."""
    digest = hashlib.sha256(model_version.encode())
    for p in sorted(participants, key=lambda p: p.external_id):
        digest.update(f"\x1ep|{p.external_id}|{p.declared_age}|{p.account_created_at}".encode())
    for m in messages:
        digest.update(
            f"\x1em|{m.external_id}|{m.sender_id}|{m.sent_at.isoformat()}|{m.utc_offset_minutes}|".encode()
        )
        digest.update(m.text.encode())
    return digest.hexdigest()


def conversation_score(*, conversation_id: int) -> Assessment | None:
    """Score one conversation with its tenant's active model.

    Idempotent: if the content fingerprint matches the latest assessment, nothing new is
    written. The score request is cleared only if it is still the one this run started from,
    so messages that arrive while the model runs get a score of their own.
    Returns the new assessment, or None when nothing changed.
    """
    _claim(conversation_id)
    try:
        conversation = Conversation.objects.select_related("tenant").get(pk=conversation_id)
    except Conversation.DoesNotExist:
        logger.info("score skipped conversation=%s: deleted", conversation_id)
        return None
    requested_at = conversation.score_requested_at
    engine = scoring_services.engine_for_tenant(tenant=conversation.tenant)

    messages = list(
        Message.objects.filter(conversation=conversation)
        .select_related("sender")
        .order_by("position")
    )
    people = {m.sender for m in messages} | set(conversation.participants.all())
    participants = [engine_participant(p) for p in people]
    fingerprint = content_fingerprint(
        messages=messages, participants=participants, model_version=engine.version
    )
    latest = conversation.assessments.order_by("-scored_at", "-pk").first()
    if latest is not None and latest.content_fingerprint == fingerprint:
        _clear_request(conversation, requested_at)
        return None

    cached = [
        st.MessageScore.from_dict(m.score) if m.score and m.scored_by == engine.version else None
        for m in messages
    ]
    result = engine.score_conversation(
        participants,
        [engine_message(m) for m in messages],
        cached,
    )
    fresh = []
    for message, was_cached, score in zip(messages, cached, result.message_scores, strict=True):
        if was_cached is None:
            message.score = score.to_dict()
            message.scored_by = engine.version
            fresh.append(message)

    with transaction.atomic():
        # The tenant's policy first, shared: the queue decision below uses the thresholds in
        # force at commit (a policy change waits for this transaction, or it for the change),
        # and always locking the tenant before the conversation, as a policy change does,
        # leaves no lock cycle. Scorings of one tenant hold it together.
        tenant = tenant_lock_policy(tenant_id=conversation.tenant_id)
        # Re-read under the row lock: another worker may have scored the same content.
        conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation_id)
        conversation.tenant = tenant
        latest = conversation.assessments.order_by("-scored_at", "-pk").first()
        if latest is not None and latest.content_fingerprint == fingerprint:
            _clear_request(conversation, requested_at)
            return None
        Message.objects.bulk_update(fresh, ["score", "scored_by"], batch_size=1000)
        assessment = Assessment.objects.create(
            conversation=conversation,
            model_version=engine.version,
            probability=result.probability,
            characteristic_scores={k: round(v, 4) for k, v in result.characteristic_scores.items()},
            highlights=[h.to_dict() for h in result.highlights],
            factors=list(result.factors),
            suspect_scores={k: round(v, 4) for k, v in result.suspect_scores.items()},
            message_count=len(messages),
            content_fingerprint=fingerprint,
            scored_at=timezone.now(),
        )
        if conversation.status == ConversationStatus.PENDING:
            conversation.status = ConversationStatus.SCORED
        queue_item_offer(conversation=conversation, assessment=assessment)
        conversation.save(update_fields=["status"])
        _clear_request(conversation, requested_at)
    logger.info(
        "scored conversation=%s model=%s messages=%d new=%d probability=%.3f status=%s",
        conversation.pk,
        engine.version,
        len(messages),
        len(fresh),
        result.probability,
        conversation.status,
    )
    return assessment


def _claim(conversation_id: int) -> None:
    """Start scoring: no task is waiting for this conversation any more, so content that
    arrives from now on owes a new one. Committed (one row, autocommit in a worker) before
    the messages are read; content that arrived before it is read by this run."""
    Conversation.objects.filter(pk=conversation_id).update(
        score_enqueued_at=None, score_claimed_at=timezone.now()
    )


def _clear_request(conversation: Conversation, requested_at: object) -> None:
    # score_enqueued_at is left alone: if it is set, a task was sent after the claim (by the
    # sweep) and is still waiting; it finds nothing new and clears it when it starts.
    Conversation.objects.filter(pk=conversation.pk, score_requested_at=requested_at).update(
        score_requested_at=None, last_scored_at=timezone.now()
    )


def conversations_sweep_unscored(*, limit: int = 5000) -> int:
    """Re-send scoring for conversations whose request has gone unanswered for a while
    (a worker died, the broker lost a message). System-wide on purpose: it runs as the
    platform, not on behalf of a tenant, and reads ids only. Returns how many it re-sent."""
    cutoff = timezone.now() - timedelta(seconds=settings.ARTEMIS_RESCORE_AFTER_SECONDS)
    # Sent long ago and still not started; or started (claimed) long ago and never answered;
    # or owed with no task sent at all.
    ids = list(
        Conversation.objects.filter(score_requested_at__isnull=False)
        .filter(
            Q(score_enqueued_at__lt=cutoff)
            | Q(
                score_enqueued_at__isnull=True,
                score_claimed_at__isnull=True,
            )
            | Q(score_enqueued_at__isnull=True, score_claimed_at__lt=cutoff)
        )
        .order_by("score_requested_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        with transaction.atomic():
            Conversation.objects.filter(pk__in=ids).update(score_enqueued_at=timezone.now())
            _enqueue(ids)
        logger.warning("sweep re-sent scoring for %d conversations", len(ids))
    return len(ids)


def engine_participant(participant: Participant) -> st.Participant:
    return st.Participant(
        external_id=participant.external_id,
        declared_age=participant.declared_age,
        account_created_at=participant.account_created_at,
    )


def engine_message(message: Message) -> st.Message:
    return st.Message(
        external_id=message.external_id,
        sender=message.sender.external_id,
        # The sender's own clock: time-of-day features and factors read local time.
        sent_at=message.sent_at.astimezone(
            dt.timezone(dt.timedelta(minutes=message.utc_offset_minutes))
        ),
        text=message.text,
    )
