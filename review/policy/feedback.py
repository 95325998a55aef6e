"""The feedback loop: decisions become labels, labels train a challenger, and the challenger
replaces the tenant's model only when it is better (``scoring.feedback.RULE``) or an admin
chooses it. Every export, training and change of model is audited; audit details hold ids,
counts, versions and the admin's reason, never message text.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from review.audit.services import audit_record
from review.models import AuditAction, ReviewError, Tenant
from review.policy import feedback_selectors
from review.policy.feedback_selectors import LabelSet
from scoring import services as scoring_services
from scoring.errors import ScoringError
from scoring.models import ModelVersion

logger = logging.getLogger("artemis.feedback")

Actor = AbstractBaseUser | AnonymousUser | None
REASON_MAX = 500


def labels_export(
    *, tenant: Tenant, actor: Actor, actor_label: str | None = None, ip: str | None = None
) -> LabelSet:
    """The tenant's labelled conversations, for a download or a file; the export itself is
    audited with its counts. The result holds message text: hand it to admins only."""
    labels = feedback_selectors.labelled_conversations(tenant=tenant)
    audit_record(
        tenant=tenant,
        actor=actor,
        actor_label=actor_label,
        action=AuditAction.EXPORT,
        target_type="labels",
        detail={"format": "jsonl", **labels.counts(), "verdicts": labels.verdicts},
        ip=ip,
    )
    logger.info("labels exported tenant=%s %s", tenant.pk, labels.counts())
    return labels


@dataclass
class ChallengerReport:
    champion: ModelVersion
    challenger: ModelVersion
    comparison: Any  # scoring.feedback.Comparison
    counts: dict[str, dict[str, int]]
    promoted: bool
    forced: bool
    stale: bool  # the model in use changed while the challenger trained
    seconds: float
    training: dict[str, Any] = field(default_factory=dict)


def challenger_train(
    *,
    tenant: Tenant,
    actor: Actor = None,
    actor_label: str | None = None,
    force_promote: bool = False,
    generated: int | None = None,
    random_state: int = 0,
) -> ChallengerReport:
    """Train a challenger on the seed corpus plus the tenant's decisions (minus the held-out
    share), compare it with the champion on the held-out decisions at the tenant's flag
    threshold, register it for the tenant, and promote it when the rule says it is better or
    ``force_promote`` is given. Raises ScoringError naming what is missing.

    Training runs outside any transaction (it takes seconds); registering, promoting and
    auditing are one transaction, so a failure leaves no half-registered challenger."""
    from scoring import feedback
    from scoring.seed import load_seed_messages
    from scoring.training import TRAIN_CONVERSATIONS

    labels = feedback_selectors.labelled_conversations(tenant=tenant)
    if not labels.conversations:
        waiting = (
            f" ({labels.awaiting_supervisor} await a supervisor)"
            if labels.awaiting_supervisor
            else ""
        )
        raise ScoringError(
            f"tenant {tenant.slug!r} has no decisions that give a label yet{waiting}"
        )
    split = feedback.split_decisions(labels.conversations)
    champion = scoring_services.model_version_active(tenant=tenant)
    if champion is None:
        raise ScoringError("no active model to compare with; run: manage.py train_model")
    champion_engine = scoring_services.engine_load(model_version=champion)

    began = time.perf_counter()
    result = feedback.train_challenger(
        seed_messages=load_seed_messages(),
        decisions=split.train,
        generated=TRAIN_CONVERSATIONS if generated is None else generated,
        random_state=random_state,
    )
    comparison = feedback.compare(
        champion_engine, result.engine, split.held_out, threshold=tenant.flag_threshold
    )
    seconds = time.perf_counter() - began
    counts = split.counts()
    training = result.metrics["training"]
    source = (
        f"seed corpus + {training['generated']} generated + "
        f"{counts['train']['conversations']} decisions of {tenant.slug}"
    )[:200]
    with transaction.atomic():
        # The comparison was against the champion read before training. If an admin changed
        # the model in use meanwhile, it is stale: register, but promote only when forced.
        current = scoring_services.model_version_active(tenant=tenant)
        stale = current is None or current.pk != champion.pk
        promote = force_promote or (comparison.better and not stale)
        challenger = _challenger_register(
            tenant=tenant,
            result=result,
            source=source,
            comparison=comparison,
            champion=champion,
            counts=counts,
            promote=promote,
            forced=force_promote and not comparison.better,
            stale=stale,
        )
        audit_record(
            tenant=tenant,
            actor=actor,
            actor_label=actor_label,
            action=AuditAction.MODEL_TRAIN,
            target_type="model_version",
            target_id=challenger.version,
            detail={
                "champion": champion.version,
                "challenger": challenger.version,
                "split": counts,
                "champion_pr_auc": round(comparison.champion["pr_auc"], 4),
                "challenger_pr_auc": round(comparison.challenger["pr_auc"], 4),
                "better": comparison.better,
                "promoted": promote,
                "forced": force_promote,
                "champion_changed_during_training": stale,
            },
        )
        if promote and (current is None or current.pk != challenger.pk):
            reason = (
                f"challenger better: {comparison.why}"
                if comparison.better
                else f"forced with --promote; not better by the rule: {comparison.why}"
            )
            _activate(
                tenant=tenant,
                model_version=challenger,
                previous=current,
                actor=actor,
                actor_label=actor_label,
                reason=reason,
                ip=None,
            )
    logger.info(
        "challenger tenant=%s version=%s champion=%s better=%s promoted=%s",
        tenant.pk,
        challenger.version,
        champion.version,
        comparison.better,
        promote,
    )
    return ChallengerReport(
        champion=champion,
        challenger=challenger,
        comparison=comparison,
        counts=counts,
        promoted=promote,
        forced=force_promote and not comparison.better,
        stale=stale,
        seconds=seconds,
        training=training,
    )


def _challenger_register(
    *,
    tenant: Tenant,
    result: Any,
    source: str,
    comparison: Any,
    champion: ModelVersion,
    counts: dict[str, dict[str, int]],
    promote: bool,
    forced: bool,
    stale: bool,
) -> ModelVersion:
    metrics = {
        **result.metrics,
        "conversation": comparison.challenger,
        "comparison": {
            **comparison.to_dict(),
            "evaluated_on": f"held-out decisions of tenant {tenant.slug}",
            "champion_version": champion.version,
            "split": counts,
            "promoted": promote,
            "forced": forced,
            "champion_changed_during_training": stale,
        },
    }
    return scoring_services.model_version_register(
        engine=result.engine,
        metrics=metrics,
        data_fingerprint=result.data_fingerprint,
        training_source=source,
        tenant=tenant,
        activate=False,
    )


@transaction.atomic
def model_version_promote(
    *,
    tenant: Tenant,
    model_version: ModelVersion,
    actor: Actor,
    reason: str,
    ip: str | None = None,
) -> ModelVersion:
    """Make ``model_version`` the one that scores the tenant's conversations: one of the
    tenant's own versions, or the current default (the tenant then stops using a model of
    its own). Promoting an older version is a rollback; both need a reason, and are audited."""
    reason = reason.strip()
    if not reason:
        raise ReviewError("say why the model in use should change", field="reason")
    if len(reason) > REASON_MAX:
        raise ReviewError(f"keep it under {REASON_MAX} characters", field="reason")
    if model_version.tenant_id not in (None, tenant.pk):
        raise ReviewError("no such model version", code="not_found")
    current = scoring_services.model_version_active(tenant=tenant)
    if current is not None and current.pk == model_version.pk:
        raise ReviewError(f"model {model_version.version} is already in use")
    if model_version.tenant_id is None and not model_version.is_active:
        raise ReviewError(
            f"model {model_version.version} is an earlier default model; the default is chosen "
            "for every tenant by the operator (manage.py train_model). Choose the current "
            "default or one of this tenant's own versions"
        )
    _activate(
        tenant=tenant,
        model_version=model_version,
        previous=current,
        actor=actor,
        actor_label=None,
        reason=reason,
        ip=ip,
    )
    return model_version


def _activate(
    *,
    tenant: Tenant,
    model_version: ModelVersion,
    previous: ModelVersion | None,
    actor: Actor,
    actor_label: str | None,
    reason: str,
    ip: str | None,
) -> None:
    if model_version.tenant_id is None:
        scoring_services.model_version_use_default(tenant=tenant)
    else:
        scoring_services.model_version_activate(model_version=model_version)
    rollback = previous is not None and model_version.created_at < previous.created_at
    audit_record(
        tenant=tenant,
        actor=actor,
        actor_label=actor_label,
        action=AuditAction.MODEL_ACTIVATE,
        target_type="model_version",
        target_id=model_version.version,
        detail={
            "from": previous.version if previous else None,
            "to": model_version.version,
            "default": model_version.tenant_id is None,
            "kind": "rollback" if rollback else "promote",
            "reason": reason[:REASON_MAX],
        },
        ip=ip,
    )
    logger.info(
        "model in use tenant=%s from=%s to=%s",
        tenant.pk,
        previous.version if previous else None,
        model_version.version,
    )
