"""Policy pages: the tenant policy and its versions, threshold tuning, model versions and
training.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review.errors import add_to_form
from review.models import ReviewError
from review.policy import charts, feedback, feedback_selectors, retrain, selectors, services, tuning
from review.policy.forms import ApplyThresholdForm, PolicyForm, RollbackForm, policy_form_field
from review.policy.models import TrainingRun
from review.signin.client_ip import client_ip
from review.tenancy.access import ArtemisRequest, found_or_404, tenant_page
from review.tenancy.capabilities import Capability
from review.tenancy.views import _page
from scoring import selectors as model_selectors
from scoring.dataset import conversation_to_dict
from scoring.feedback import RULE, SHOWN
from scoring.models import ModelVersion
from scoring.services import model_version_active


def _queue_message(version: Any) -> str:
    queue = version.reevaluation
    if not queue:
        return f"Policy version {version.number} saved."
    return (
        f"Policy version {version.number} saved. Queue: {queue['entered']} entered, "
        f"{queue['left']} left, {queue['updated']} re-prioritised, {queue['deferred']} "
        "claimed (applied when released)."
    )


@tenant_page(Capability.ADMINISTER)
@require_http_methods(["GET", "POST"])
def admin_policy(request: ArtemisRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(request.tenant))
    if request.method == "POST" and form.is_valid():
        try:
            version = services.policy_change(
                tenant=request.tenant,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                changes=form.changes(),
                webhook_secret=form.secret(),
            )
        except ReviewError as exc:
            add_to_form(form, exc, field_of=policy_form_field)
        else:
            messages.success(request, _queue_message(version))
            return redirect("policy:admin_policy", tenant_slug=request.tenant.slug)
    return _policy_page(request, form, status=400 if form.errors else 200)


def _policy_page(
    request: ArtemisRequest, form: PolicyForm, *, status: int = 200, **typed: Any
) -> HttpResponse:
    """The policy page; ``typed`` carries a refused rollback's version and reason back into
    its row (``rollback_version``, ``rollback_reason``)."""
    context = {
        "form": form,
        "versions": selectors.policy_version_list(tenant=request.tenant),
        "secret_set": bool(request.tenant.webhook_secret),
        "runs": selectors.retention_run_list(tenant=request.tenant)[:10],
        **typed,
    }
    return _page(request, "review/policy/admin_policy.html", context, status=status)


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_policy_rollback(request: ArtemisRequest) -> HttpResponse:
    form = RollbackForm(request.POST)

    def refused(notice: str, status: int) -> HttpResponse:
        # The page again, not a redirect: the reason written stays in its version's row.
        messages.error(request, notice)
        return _policy_page(
            request,
            PolicyForm(initial=PolicyForm.initial_for(request.tenant)),
            status=status,
            rollback_version=request.POST.get("version", ""),
            rollback_reason=request.POST.get("reason", ""),
        )

    if not form.is_valid():
        # The form's own words, never its field names: the version is a hidden field.
        problems = " ".join(m for errors in form.errors.values() for m in errors)
        return refused(f"Not rolled back. {problems}", 400)
    try:
        version = services.policy_rollback(
            tenant=request.tenant,
            actor=request.user,
            version_number=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )
    except ReviewError as exc:
        return refused(f"Not rolled back: {exc.message}", exc.http_status)
    messages.success(
        request,
        f"Rolled back to version {form.cleaned_data['version']}. " + _queue_message(version),
    )
    return redirect("policy:admin_policy", tenant_slug=request.tenant.slug)


DEFAULT_DAYS = 30


def _days(raw: str | None) -> int:
    try:
        days = int(raw or DEFAULT_DAYS)
    except ValueError:
        return DEFAULT_DAYS
    return days if days in tuning.WINDOWS else DEFAULT_DAYS


def _candidate(raw: str | None, default: float) -> tuple[float, str]:
    """The candidate threshold, and a message if the one asked for was not usable."""
    if raw in (None, ""):
        return default, ""
    try:
        value = float(raw)
    except ValueError:
        return default, f"candidate: {raw!r} is not a number; showing the current threshold"
    if not 0 <= value <= 1:
        return default, f"candidate: must be between 0 and 1; got {raw}"
    rounded = round(value, tuning.THRESHOLD_DECIMALS)
    if rounded != value:
        return rounded, (
            f"candidate: thresholds go in steps of 0.001; {raw} is shown as "
            f"{tuning.threshold_label(rounded)}"
        )
    return value, ""


@tenant_page(Capability.ADMINISTER, htmx_part=True)
@require_GET
def admin_tuning(request: ArtemisRequest) -> HttpResponse:
    return _tuning_page(
        request, days=_days(request.GET.get("days")), raw_candidate=request.GET.get("candidate")
    )


def _tuning_page(
    request: ArtemisRequest,
    *,
    days: int,
    raw_candidate: str | None,
    apply_reason: str = "",
    status: int = 200,
) -> HttpResponse:
    """The tuning page at ``days`` and the candidate asked for; after a refused apply, with
    the reason the admin wrote still in its box."""
    tenant = request.tenant
    current = tenant.flag_threshold
    candidate, problem = _candidate(raw_candidate, current)
    scores = tuning.latest_scores(tenant=tenant, days=days)
    labels = tuning.decision_labels(tenant=tenant, days=days)
    figures = tuning.Figures(scores=scores, labels=labels, days=days)
    curve = figures.curve()
    context = {
        "tenant": tenant,
        "membership": request.membership,
        "days": days,
        "windows": tuning.WINDOWS,
        "current": figures.at(current),
        "candidate": figures.at(candidate),
        "candidate_problem": problem,
        "scored": len(scores),
        "labelled": len(labels),
        "positives": len(figures.positives),
        "urgent_threshold": tenant.urgent_threshold,
        "histogram": charts.histogram_svg(
            tuning.histogram(scores), days=days, current=current, candidate=candidate
        ),
        "pr": charts.pr_svg(curve, current=current, candidate=candidate),
        "volume": charts.volume_svg(curve, days=days, current=current, candidate=candidate),
        "apply_form": ApplyThresholdForm(initial={"candidate": candidate, "days": days}),
        "apply_reason": apply_reason,
    }
    template = (
        "review/policy/admin_tuning.html#whatif"
        if request.htmx
        else "review/policy/admin_tuning.html"
    )
    return render(request, template, context, status=status)


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_tuning_apply(request: ArtemisRequest) -> HttpResponse:
    form = ApplyThresholdForm(request.POST)
    days = _days(request.POST.get("days"))
    back = reverse("policy:admin_tuning", kwargs={"tenant_slug": request.tenant.slug})

    def refused(notice: str, status: int) -> HttpResponse:
        # The page again, not a redirect: the reason written stays in its box.
        messages.error(request, notice)
        return _tuning_page(
            request,
            days=days,
            raw_candidate=request.POST.get("candidate"),
            apply_reason=request.POST.get("reason", ""),
            status=status,
        )

    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return refused(f"Threshold not applied. {problems}", 400)
    candidate = form.cleaned_data["candidate"]
    try:
        version = services.policy_change(
            tenant=request.tenant,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            changes={"flag_threshold": candidate},
        )
    except ReviewError as exc:
        return refused(f"Threshold not applied: {exc}", exc.http_status)
    queue = version.reevaluation or {}
    messages.success(
        request,
        f"Flag threshold is now {candidate:g} (policy version {version.number}). Queue: "
        f"{queue.get('entered', 0)} entered, {queue.get('left', 0)} left, "
        f"{queue.get('deferred', 0)} claimed items follow when released.",
    )
    return redirect(f"{back}?days={days}")


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
    return _models_page(request)


def _models_page(
    request: ArtemisRequest, *, refused: ReviewError | None = None, **typed: Any
) -> HttpResponse:
    """The Models page; after a refused Train or Promote, again with the refusal beside the
    form and the reason the admin typed still in it (``typed``: ``train_reason``, or
    ``promote_reason`` with ``promote_pk``)."""
    rows, in_use = _rows(request)
    labels = feedback_selectors.decision_labels(tenant=request.tenant)
    grooming = sum(1 for d in labels if d.label == 1)
    benign = sum(1 for d in labels if d.label == 0)
    return render(
        request,
        "review/policy/models.html",
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
            "refused": refused.message if refused else "",
            **typed,
        },
        status=refused.http_status if refused else 200,
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
    reason = request.POST.get("reason", "")
    try:
        retrain.training_run_request(
            tenant=request.tenant,
            actor=request.user,
            reason=reason,
            ip=client_ip(request),
        )
    except ReviewError as exc:
        return _models_page(request, refused=exc, train_reason=reason)
    else:
        messages.success(
            request, "A challenger is queued for training; this page shows when it is done."
        )
    return redirect("policy:model_versions", tenant_slug=request.tenant.slug)


@tenant_page(Capability.ADMINISTER, htmx_part=True)
@require_GET
def model_train_status(request: ArtemisRequest) -> HttpResponse:
    """The training panel alone, for htmx to poll while a run is queued or training; without
    htmx, the whole page."""
    if not request.htmx:
        return redirect("policy:model_versions", tenant_slug=request.tenant.slug)
    context = _training_context(request)
    response = render(
        request, "review/policy/_training_run.html", {"tenant": request.tenant, **context}
    )
    if request.GET.get("poll") and not (context["run"] and context["run"].running):
        # Finished: reload the whole page, so the versions table shows the challenger too.
        response["HX-Refresh"] = "true"
    return response


@tenant_page(Capability.ADMINISTER)
@require_POST
def model_version_promote(request: ArtemisRequest, version_id: int) -> HttpResponse:
    version = found_or_404(
        lambda: model_selectors.model_version_get(tenant=request.tenant, pk=version_id),
        "model version",
    )
    reason = request.POST.get("reason", "")
    try:
        feedback.model_version_promote(
            tenant=request.tenant,
            model_version=version,
            actor=request.user,
            reason=reason,
            ip=client_ip(request),
        )
    except ReviewError as exc:
        return _models_page(request, refused=exc, promote_reason=reason, promote_pk=version.pk)
    else:
        messages.success(
            request, f"Model {version.version} now scores {request.tenant.name}'s conversations."
        )
    return redirect("policy:model_versions", tenant_slug=request.tenant.slug)


@tenant_page(Capability.ADMINISTER)
@require_GET
def model_labels_export(request: ArtemisRequest) -> HttpResponse:
    labels = feedback.labels_export(
        tenant=request.tenant, actor=request.user, ip=client_ip(request)
    )

    def lines() -> Iterator[str]:
        for conversation in labels.conversations:
            yield json.dumps(conversation_to_dict(conversation), ensure_ascii=False) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="labels-{request.tenant.slug}.jsonl"'
    # Message text: never kept by a browser cache or a proxy.
    response["Cache-Control"] = "no-store"
    return response
