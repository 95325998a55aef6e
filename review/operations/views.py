"""Probes for the orchestrator: ``/healthz`` (the process answers) and ``/readyz`` (it can do
its work: the database answers, the broker accepts a connection, the active default model
is registered and its stored artifact is intact). They say which check failed, never why in
detail (no addresses, no credentials)."""

from __future__ import annotations

import hashlib

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from artemis.celery import app
from scoring.models import ModelVersion
from scoring.services import model_version_active

# Versions whose artifact this process has already checked: a version is a content hash,
# so an intact one stays intact.
_intact: set[str] = set()


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker(), "model": _model()}
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"failed ({type(exc).__name__})"
    return "ok"


def _broker() -> str:
    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"failed ({type(exc).__name__})"
    return "ok"


def _model() -> str:
    try:
        version = model_version_active(tenant=None)
        if version is None:
            return "failed (no active default model; run manage.py train_model)"
        if version.version not in _intact:
            data = ModelVersion.objects.filter(pk=version.pk).values_list("artifact", flat=True)
            if hashlib.sha256(bytes(data.get())).hexdigest() != version.sha256:
                return "failed (the stored artifact does not match its hash)"
            _intact.add(version.version)
    except Exception as exc:
        return f"failed ({type(exc).__name__})"
    return "ok"
