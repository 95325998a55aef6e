"""The registry and the active engine, as the rest of Artemis uses them.

The engine (``scoring.engine``) never touches the database; this module stores its artifacts
as registry rows and loads them back only when the bytes hash to the registered SHA-256.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from scoring.errors import ScoringError
from scoring.models import ModelVersion

if TYPE_CHECKING:
    from review.models import Tenant
    from scoring.engine import Engine

logger = logging.getLogger("artemis.scoring")

# Loaded engines by version, per process. Versions are content hashes, so an entry never
# goes stale; a newly activated version is simply a new key.
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _artifacts() -> Any:
    # Imported on first use: web processes, which never score, then never load scikit-learn.
    from scoring import artifacts

    return artifacts


def model_version_active(*, tenant: Tenant | None) -> ModelVersion | None:
    """The tenant's own active model if it has one, else the default."""
    query = ModelVersion.objects.filter(is_active=True).defer("artifact")
    if tenant is not None:
        query = query.filter(Q(tenant=tenant) | Q(tenant__isnull=True))
    else:
        query = query.filter(tenant__isnull=True)
    return query.order_by(F("tenant").asc(nulls_last=True)).first()


def engine_load(*, model_version: ModelVersion) -> Engine:
    with _lock:
        engine = _engines.get(model_version.version)
        if engine is None:
            rows = ModelVersion.objects.filter(pk=model_version.pk)
            data = bytes(rows.values_list("artifact", flat=True).get())
            engine = _artifacts().load_engine_bytes(data, expected_sha256=model_version.sha256)
            _engines[model_version.version] = engine
            logger.info("loaded model version=%s", model_version.version)
        return engine


def engine_for_tenant(*, tenant: Tenant | None) -> Engine:
    model_version = model_version_active(tenant=tenant)
    if model_version is None:
        raise ScoringError("no active scoring model is registered; run: manage.py train_model")
    return engine_load(model_version=model_version)


@transaction.atomic
def model_version_register(
    *,
    engine: Engine,
    metrics: dict[str, Any],
    data_fingerprint: str,
    training_source: str,
    tenant: Tenant | None = None,
    activate: bool = True,
) -> ModelVersion:
    """Store a trained engine as a registry row (artifact bytes + SHA-256), optionally making
    it the active model of the tenant (or the default)."""
    blob = _artifacts().dump_engine(engine)
    existing = ModelVersion.objects.filter(version=blob.version).first()
    if existing is not None:
        # Deterministic training gives byte-identical artifacts: same version, one row.
        if existing.tenant_id != (tenant.pk if tenant is not None else None):
            # Activating it here would change another tenant's (or the default's) model.
            raise ScoringError(
                f"the trained model is identical to version {existing.version}, which "
                "belongs to another tenant or the default; nothing registered"
            )
        model_version = existing
    else:
        model_version = ModelVersion.objects.create(
            tenant=tenant,
            version=blob.version,
            artifact=blob.data,
            sha256=blob.sha256,
            sklearn_version=blob.sklearn_version,
            data_fingerprint=data_fingerprint,
            training_source=training_source,
            metrics=metrics,
            size_bytes=len(blob.data),
            created_at=timezone.now(),
        )
    if activate:
        model_version_activate(model_version=model_version)
    return model_version


@transaction.atomic
def model_version_activate(*, model_version: ModelVersion) -> None:
    ModelVersion.objects.filter(tenant=model_version.tenant, is_active=True).exclude(
        pk=model_version.pk
    ).update(is_active=False)
    if not model_version.is_active:
        model_version.is_active = True
        model_version.activated_at = timezone.now()
        model_version.save(update_fields=["is_active", "activated_at"])


@transaction.atomic
def model_version_use_default(*, tenant: Tenant) -> None:
    """The tenant stops using a model of its own and follows the default again."""
    ModelVersion.objects.filter(tenant=tenant, is_active=True).update(is_active=False)
