"""Admin page: the model versions a tenant may use, which one scores its conversations,
promotion and rollback with a reason, and the labelled-data download.

Everything here is admin-only: the download holds message text, and the model in use
decides which conversations reach the moderators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from review import feedback_selectors
from review.capabilities import Capability
from review.models import ReviewError
from review.models.training import TrainingRun
from review.services import feedback, retrain
from review.views.base import ArtemisRequest, tenant_page
from scoring import selectors as model_selectors
from scoring.dataset import conversation_to_dict
from scoring.feedback import RULE, SHOWN
from scoring.models import ModelVersion
from scoring.services import model_version_active


@dataclass
class VersionRow:
    version: ModelVersion
    in_use: bool
    is_default: bool
    action: str  # "" when it cannot be chosen from here
    note: str
    conversation: dict[str, Any]
    comparison: dict[str, Any]


def _rows(request: ArtemisRequest) -> tuple[list[VersionRow], ModelVersion | None]:
    in_use = model_version_active(tenant=request.tenant)
    rows = []
    for v in model_selectors.model_version_list(tenant=request.tenant):
        is_default = v.tenant_id is None
        action, note = "", ""
        if in_use is not None and v.pk == in_use.pk:
            note = "scores this tenant's conversations"
        elif is_default and v.is_active:
            action, note = "Use the default", "the current default"
        elif is_default:
            note = "an earlier default; the operator chooses the default"
        elif in_use is not None and v.created_at < in_use.created_at:
            action = "Roll back to this"
        else:
            action = "Promote"
        metrics = v.metrics or {}
        conversation = dict(metrics.get("conversation") or {})
        if conversation:
            conversation["f05"] = conversation.get("f0.5")  # a dotted key a template can't read
        rows.append(
            VersionRow(
                version=v,
                in_use=in_use is not None and v.pk == in_use.pk,
                is_default=is_default,
                action=action,
                note=note,
                conversation=conversation,
                comparison=metrics.get("comparison") or {},
            )
        )
    return rows, in_use


@tenant_page(Capability.ADMINISTER)
@require_GET
def model_versions(request: ArtemisRequest) -> HttpResponse:
    rows, in_use = _rows(request)
    labels = feedback_selectors.decision_labels(tenant=request.tenant)
    grooming = sum(1 for d in labels if d.label == 1)
    benign = sum(1 for d in labels if d.label == 0)
    return render(
        request,
        "review/models.html",
        {
            "tenant": request.tenant,
            "membership": request.membership,
            "rows": rows,
            "in_use": in_use,
            "labels": {
                "grooming": grooming,
                "benign": benign,
                "total": grooming + benign,
                "awaiting_supervisor": len(labels) - grooming - benign,
            },
            "changes": feedback_selectors.model_changes(tenant=request.tenant),
            **_training_context(request),
        },
    )


def _training_context(request: ArtemisRequest) -> dict[str, Any]:
    """The latest training run and, when it is done, its comparison row by row (the metric
    keys hold a dot, "f0.5", that a template cannot read)."""
    run: TrainingRun | None = feedback_selectors.training_run_latest(tenant=request.tenant)
    metrics = []
    if run is not None and run.comparison:
        champion = run.comparison.get("champion") or {}
        challenger = run.comparison.get("challenger") or {}
        for label, key in SHOWN:
            if key in champion and key in challenger:
                a, b = champion[key], challenger[key]
                metrics.append({"label": label, "champion": a, "challenger": b, "delta": b - a})
    return {"run": run, "run_metrics": metrics, "rule": RULE}


@tenant_page(Capability.ADMINISTER)
@require_POST
def model_train(request: ArtemisRequest) -> HttpResponse:
    try:
        retrain.training_run_request(
            tenant=request.tenant,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            ip=request.META.get("REMOTE_ADDR"),
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, "A challenger is queued for training; this page shows when it is done."
        )
    return redirect("model_versions", tenant_slug=request.tenant.slug)


@tenant_page(Capability.ADMINISTER)
@require_GET
def model_train_status(request: ArtemisRequest) -> HttpResponse:
    """The training panel alone, for htmx to poll while a run is queued or training; without
    htmx, the whole page."""
    if not request.htmx:
        return redirect("model_versions", tenant_slug=request.tenant.slug)
    context = _training_context(request)
    response = render(request, "review/_training_run.html", {"tenant": request.tenant, **context})
    if request.GET.get("poll") and not (context["run"] and context["run"].running):
        # Finished: reload the whole page, so the versions table shows the challenger too.
        response["HX-Refresh"] = "true"
    return response


@tenant_page(Capability.ADMINISTER)
@require_POST
def model_version_promote(request: ArtemisRequest, version_id: int) -> HttpResponse:
    try:
        version = model_selectors.model_version_get(tenant=request.tenant, pk=version_id)
    except ModelVersion.DoesNotExist:
        raise Http404("no such model version") from None
    try:
        feedback.model_version_promote(
            tenant=request.tenant,
            model_version=version,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            ip=request.META.get("REMOTE_ADDR"),
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Model {version.version} now scores {request.tenant.name}'s conversations."
        )
    return redirect("model_versions", tenant_slug=request.tenant.slug)


@tenant_page(Capability.ADMINISTER)
@require_GET
def model_labels_export(request: ArtemisRequest) -> HttpResponse:
    labels = feedback.labels_export(
        tenant=request.tenant, actor=request.user, ip=request.META.get("REMOTE_ADDR")
    )

    def lines() -> Iterator[str]:
        for conversation in labels.conversations:
            yield json.dumps(conversation_to_dict(conversation), ensure_ascii=False) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="labels-{request.tenant.slug}.jsonl"'
    # Message text: never kept by a browser cache or a proxy.
    response["Cache-Control"] = "no-store"
    return response
