"""The threshold tuning page: score histogram, precision and recall by threshold, expected
queue volume, and a what-if at a candidate threshold that can be applied (as a versioned
policy change, with a reason). Without JavaScript the what-if is a GET form; with htmx,
typing a candidate swaps just the figures."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from review import charts, tuning
from review.admin_forms import ApplyThresholdForm
from review.capabilities import Capability
from review.models import ReviewError
from review.services import policy
from review.views.base import ArtemisRequest, tenant_page

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
    return round(value, 4), ""


@tenant_page(Capability.ADMINISTER)
@require_GET
def admin_tuning(request: ArtemisRequest) -> HttpResponse:
    tenant = request.tenant
    days = _days(request.GET.get("days"))
    current = tenant.flag_threshold
    candidate, problem = _candidate(request.GET.get("candidate"), current)
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
    }
    template = "review/admin_tuning.html#whatif" if request.htmx else "review/admin_tuning.html"
    return render(request, template, context)


@tenant_page(Capability.ADMINISTER)
@require_POST
def admin_tuning_apply(request: ArtemisRequest) -> HttpResponse:
    form = ApplyThresholdForm(request.POST)
    days = _days(request.POST.get("days"))
    back = reverse("admin_tuning", kwargs={"tenant_slug": request.tenant.slug})
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"Threshold not applied. {problems}")
        return redirect(f"{back}?days={days}&candidate={request.POST.get('candidate', '')}")
    candidate = form.cleaned_data["candidate"]
    try:
        version = policy.policy_change(
            tenant=request.tenant,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            changes={"flag_threshold": candidate},
        )
    except ReviewError as exc:
        messages.error(request, f"Threshold not applied: {exc}")
        return redirect(f"{back}?days={days}&candidate={candidate}")
    queue = version.reevaluation or {}
    messages.success(
        request,
        f"Flag threshold is now {candidate:g} (policy version {version.number}). Queue: "
        f"{queue.get('entered', 0)} entered, {queue.get('left', 0)} left, "
        f"{queue.get('deferred', 0)} claimed items follow when released.",
    )
    return redirect(f"{back}?days={days}")
