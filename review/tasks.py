"""Celery tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from review.audit.checkpoints import audit_checkpoints_sign
from review.cases.ncmec.services import NcmecRetryLater, case_submit_ncmec
from review.intake.scoring import (
    TRANSIENT,
    conversations_request_score_apart,
    conversations_score,
    conversations_sweep_unscored,
)
from review.outbound.outbox import outbox_send
from review.outbound.webhooks import MAX_ATTEMPTS, DeliveryFailed, webhook_attempt
from review.policy.retention import retention_purge_all
from review.queue.services import queue_counts_compact

logger = logging.getLogger("artemis.tasks")


class ScoringFailed(Exception):
    pass


# A database that went away for a moment: the task runs again, backing off up to 5 minutes.
RETRY_TRANSIENT = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 10,
}


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY_TRANSIENT)
def score_conversations(conversation_ids: list[int]) -> None:
    # The chunk is scored together (a fixed number of queries for all of it). One bad
    # conversation does not hold back the others: they are scored, then the task fails so
    # the error is visible. The sweep sends the failed one again later.
    scored = conversations_score(conversation_ids=conversation_ids)
    for conversation_id, exc in scored.failed.items():
        # Class name and id only: an exception message could quote chat text.
        logger.error("scoring failed conversation=%s error=%s", conversation_id, type(exc).__name__)
    if scored.failed:
        raise ScoringFailed(f"scoring failed for conversations {sorted(scored.failed)}")


@shared_task(acks_late=True, **RETRY_TRANSIENT)
def request_scores(conversation_ids: list[int]) -> int:
    """Owe a score to conversations an ingest request did not hold: those of a participant
    whose declared age or account date it changed (review.intake.services)."""
    return conversations_request_score_apart(conversation_ids=conversation_ids)


@shared_task(acks_late=True)
def sweep_unscored() -> int:
    return conversations_sweep_unscored()


@shared_task(acks_late=True)
def send_outbox() -> int:
    """Run by celery beat and by each worker as it starts: send the tasks that requests owed
    while the broker was down. Returns how many it sent."""
    return outbox_send()


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


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(NcmecRetryLater, *TRANSIENT),
    retry_backoff=settings.ARTEMIS_NCMEC_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=5,
)
def submit_ncmec(tenant_id: int, case_id: int, actor_id: int) -> None:
    """Report a case to the CyberTipline (or resume its report). A rerun after a crash, or
    after the outbound queue's soft time limit cut a hung call, resumes from what was
    committed; it never opens a second report."""
    from django.contrib.auth import get_user_model

    from review.cases.selectors import case_get
    from review.models import ReviewError, Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    case = case_get(tenant=tenant, pk=case_id)
    actor = get_user_model().objects.get(pk=actor_id)
    try:
        case_submit_ncmec(case=case, actor=actor)
    except NcmecRetryLater:
        raise
    except ReviewError as exc:
        # Recorded on the submission for the case page; ids only in the log.
        logger.warning("ncmec submission stopped case=%s error=%s", case_id, type(exc).__name__)


@shared_task(acks_late=True)
def purge_expired() -> int:
    """Retention, run by celery beat: returns how many conversations it purged."""
    return sum(len(r.conversation_ids) for r in retention_purge_all())


@shared_task(acks_late=True)
def compact_queue_counts() -> int:
    """Run by celery beat: fold the queue-count deltas, so the queue page sums a row per
    group rather than one per change since the last run. Returns the rows folded."""
    return queue_counts_compact()


@shared_task(acks_late=True)
def sign_audit_checkpoints() -> int:
    """Run by celery beat: sign each tenant's audit chain head that moved since its last
    checkpoint (review/audit/checkpoints.py). Returns how many were signed."""
    return audit_checkpoints_sign()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def train_challenger(tenant_id: int, run_id: int, actor_id: int) -> None:
    """Train the challenger an admin asked for on the model versions page. A redelivery after
    a lost worker trains it again; one of a finished run does nothing."""
    from django.contrib.auth import get_user_model

    from review.models import Tenant
    from review.policy.retrain import training_run_execute

    tenant = Tenant.objects.get(pk=tenant_id)
    actor = get_user_model().objects.get(pk=actor_id)
    training_run_execute(tenant=tenant, run_id=run_id, actor=actor)
