"""Celery tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from review.services.retention import retention_purge_all
from review.services.scoring import conversation_score, conversations_sweep_unscored
from review.services.webhooks import MAX_ATTEMPTS, DeliveryFailed, webhook_attempt

logger = logging.getLogger("artemis.tasks")


class ScoringFailed(Exception):
    pass


# Transient: the database went away or is locked for a moment. Anything else is a bug and
# fails loudly; the sweep sends the conversation again later either way.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def score_conversations(conversation_ids: list[int]) -> None:
    # One bad conversation must not hold back the others in its chunk: score the rest, then
    # fail the task so the error is visible. The sweep sends the failed one again later.
    failed: list[int] = []
    for conversation_id in conversation_ids:
        try:
            conversation_score(conversation_id=conversation_id)
        except TRANSIENT:
            raise
        except Exception as exc:
            # Class name and id only: an exception message could quote chat text.
            logger.error(
                "scoring failed conversation=%s error=%s", conversation_id, type(exc).__name__
            )
            failed.append(conversation_id)
    if failed:
        raise ScoringFailed(f"scoring failed for conversations {failed}")


@shared_task(acks_late=True)
def sweep_unscored() -> int:
    return conversations_sweep_unscored()


@shared_task(
    acks_late=True,
    autoretry_for=(DeliveryFailed,),
    retry_backoff=5,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=MAX_ATTEMPTS,
)
def deliver_webhook(delivery_id: int) -> None:
    webhook_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True)
def purge_expired() -> int:
    """Retention, run by celery beat: returns how many conversations it purged."""
    return sum(len(r.conversation_ids) for r in retention_purge_all())
