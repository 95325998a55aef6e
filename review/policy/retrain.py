"""Retraining from the browser: an admin asks for a challenger on the model versions page, a
Celery task trains it with the same service ``manage.py train_model --tenant`` uses
(``review.policy.feedback.challenger_train``), so the rule is the same: the challenger
replaces the model in use only when it is better on the held-out decisions.

Each request is a ``TrainingRun`` row (queued -> training -> done | failed), one running at a
time per tenant. Audited: who asked (``model_train_request``), and the outcome
(``model_train`` and ``model_activate`` from the training service, or
``model_train_failed`` with the reason).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from review.audit.services import audit_record
from review.models import (
    RUNNING_STATUSES,
    AuditAction,
    ReviewError,
    Tenant,
    TrainingRun,
    TrainingStatus,
)
from review.outbound.outbox import outbox_add
from review.policy.feedback import REASON_MAX, challenger_train
from scoring.errors import ScoringError

logger = logging.getLogger("artemis.feedback")

# A run still queued or training after this long lost its worker for good (a redelivered
# task restarts it well before): a new request marks it failed instead of waiting forever.
STALE_AFTER = timedelta(hours=2)


@transaction.atomic
def training_run_request(
    *, tenant: Tenant, actor: AbstractBaseUser, reason: str = "", ip: str | None = None
) -> TrainingRun:
    """Queue a challenger training for the tenant; the task is sent once this commits.
    Refused (ReviewError) while another run of the tenant is queued or training."""
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise ReviewError(f"keep it under {REASON_MAX} characters", field="reason")
    # The tenant row's lock serialises two admins pressing Train at once; the partial unique
    # constraint on the table is the backstop.
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    now = timezone.now()
    running = (
        TrainingRun.objects.select_for_update()
        .filter(tenant=tenant, status__in=RUNNING_STATUSES)
        .first()
    )
    if running is not None and (running.started_at or running.requested_at) < now - STALE_AFTER:
        _fail(
            running,
            "the worker stopped before finishing (no result after "
            f"{int(STALE_AFTER.total_seconds() // 3600)} hours); ask again",
        )
        running = None
    if running is not None:
        raise ReviewError(
            f"a challenger is already {running.get_status_display().lower()} (asked at "
            f"{running.requested_at:%H:%M} UTC); wait until it is done, then train again"
        )
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(
                tenant=tenant, requested_by=actor, reason=reason, requested_at=now
            )
    except IntegrityError:
        raise ReviewError(
            "a challenger is already being trained; wait until it is done, then train again"
        ) from None
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.MODEL_TRAIN_REQUEST,
        target_type="training_run",
        target_id=str(run.pk),
        detail={"run": run.pk, "reason": reason},
        ip=ip,
    )
    from review.tasks import train_challenger  # tasks import services, not the reverse

    outbox_add(task=train_challenger, calls=[[tenant.pk, run.pk, actor.pk]])
    logger.info("challenger training queued tenant=%s run=%s", tenant.pk, run.pk)
    return run


@transaction.atomic
def _start(*, tenant: Tenant, run_id: int) -> TrainingRun | None:
    run = TrainingRun.objects.select_for_update().get(tenant=tenant, pk=run_id)
    if not run.running:
        return None  # finished already: a duplicate delivery of the task
    # A run already "training" is a redelivery after a lost worker: train it again.
    run.status = TrainingStatus.TRAINING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    return run


def _fail(run: TrainingRun, error: str) -> None:
    run.status = TrainingStatus.FAILED
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    audit_record(
        tenant=run.tenant,
        actor=None,
        actor_label="training worker",
        action=AuditAction.MODEL_TRAIN_FAILED,
        target_type="training_run",
        target_id=str(run.pk),
        detail={"run": run.pk, "requested_by": run.requested_by_id, "error": error[:REASON_MAX]},
    )
    logger.info("challenger training failed tenant=%s run=%s", run.tenant_id, run.pk)


def training_run_execute(*, tenant: Tenant, run_id: int, actor: AbstractBaseUser) -> TrainingRun:
    """Train the run's challenger and record the outcome on the run. Not one transaction:
    training takes seconds to minutes, and the page must see "training" meanwhile. Each
    state change is atomic, and the challenger is registered, promoted and audited in one
    transaction by ``challenger_train``, so a failure leaves no half-registered model."""
    run = _start(tenant=tenant, run_id=run_id)
    if run is None:
        return TrainingRun.objects.get(tenant=tenant, pk=run_id)
    try:
        report = challenger_train(
            tenant=tenant, actor=actor, generated=settings.ARTEMIS_CHALLENGER_GENERATED or None
        )
    except ScoringError as exc:
        # Our own words about counts and models (never message text): shown to the admin.
        with transaction.atomic():
            _fail(run, str(exc))
        return run
    except Exception as exc:
        with transaction.atomic():
            _fail(
                run,
                f"training stopped on an internal error ({type(exc).__name__}); the operator "
                f"finds training run {run.pk} in the worker log",
            )
        raise
    with transaction.atomic():
        run.status = TrainingStatus.DONE
        run.finished_at = timezone.now()
        run.champion_version = report.champion.version
        run.challenger_version = report.challenger.version
        run.comparison = report.challenger.metrics.get("comparison") or {}
        run.promoted = report.promoted
        run.save(
            update_fields=[
                "status",
                "finished_at",
                "champion_version",
                "challenger_version",
                "comparison",
                "promoted",
            ]
        )
    logger.info(
        "challenger training done tenant=%s run=%s promoted=%s", tenant.pk, run.pk, run.promoted
    )
    return run
