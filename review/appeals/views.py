"""Appeal pages: the appeals queue (take the next appeal), the appeal page (the transcript
and highlights as they stood at the decision, the decision with its reason and notes, the
user's statement) with its outcome form, skip and lease renewal."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from review.appeals import selectors, services
from review.appeals.forms import AppealDecisionForm
from review.decisions import selectors as decision_selectors
from review.errors import add_to_form
from review.models import Appeal, AppealOutcome, AppealStatus, ReviewError
from review.queue.lease_views import lease_left, lease_released, lease_renewed
from review.queue.leases import APPEAL
from review.tenancy.access import ArtemisRequest, found_or_404, tenant_page
from review.tenancy.capabilities import Capability, member_can
from review.transcript import review_context, transcript_view_record


def _appeal(request: ArtemisRequest, appeal_id: int) -> Appeal:
    return found_or_404(lambda: selectors.appeal_get(tenant=request.tenant, pk=appeal_id), "appeal")


def _supervisor(request: ArtemisRequest) -> bool:
    return member_can(request.membership, Capability.SUPERVISE)


def _claim_and_open(request: ArtemisRequest) -> HttpResponse:
    appeal = services.appeal_claim_next(tenant=request.tenant, reviewer=request.user)
    if appeal is None:
        messages.info(request, "No appeal is waiting for you.")
        return redirect("appeals:appeals", tenant_slug=request.tenant.slug)
    return redirect("appeals:appeal", tenant_slug=request.tenant.slug, appeal_id=appeal.pk)


@tenant_page(Capability.DECIDE_APPEAL)
@require_GET
def appeals(request: ArtemisRequest) -> HttpResponse:
    tenant = request.tenant
    now = timezone.now()
    eligible = services.appeals_eligible(tenant=tenant, reviewer=request.user)
    open_appeals = [
        {
            "appeal": a,
            "age": selectors.appeal_age_days(a, now=now),
            "overdue": selectors.appeal_age_days(a, now=now) > tenant.appeal_target_days,
        }
        for a in selectors.appeals_open(tenant=tenant)[:200]
    ]
    return render(
        request,
        "review/appeals/appeals.html",
        {
            "tenant": tenant,
            "membership": request.membership,
            "held": selectors.appeal_held(tenant=tenant, reviewer=request.user),
            "waiting": eligible.filter(status=AppealStatus.WAITING).count(),
            "open_appeals": open_appeals,
            "done": selectors.appeals_decided_by(tenant=tenant, reviewer=request.user),
            "target_days": tenant.appeal_target_days,
        },
    )


@tenant_page(Capability.DECIDE_APPEAL)
@require_POST
def take_next(request: ArtemisRequest) -> HttpResponse:
    return _claim_and_open(request)


def _page(
    request: ArtemisRequest, appeal: Appeal, form: AppealDecisionForm, status: int = 200
) -> HttpResponse:
    decision = appeal.decision
    key = f"revealed-{decision.queue_item_id}"
    # The conversation as it stood when the appealed decision was made.
    context = review_context(
        request,
        item=decision.queue_item,
        conversation=appeal.conversation,
        revealed=set(request.session.get(key, [])),
        as_of=decision.created_at,
    )
    transcript_view_record(request, context, appeal=appeal.pk)
    context.update(
        appeal=appeal,
        decision=decision,
        decisions=decision_selectors.decision_history(
            tenant=request.tenant, conversation=appeal.conversation
        ),
        form=form,
        reveal_next=request.path,
        age=selectors.appeal_age_days(appeal),
        target_days=request.tenant.appeal_target_days,
        **lease_left(appeal.lease_expires_at, APPEAL),
    )
    return render(request, "review/appeals/appeal.html", context, status=status)


def _held_here(request: ArtemisRequest, appeal: Appeal) -> bool:
    held = selectors.appeal_held(tenant=request.tenant, reviewer=request.user)
    return held is not None and held.pk == appeal.pk


def _not_yours(appeal: Appeal) -> str:
    """Why the appeal's page is not shown: its outcome once decided, else the lease."""
    if appeal.status != AppealStatus.DONE:
        return "That appeal is not leased to you; take the next one here."
    if appeal.outcome == AppealOutcome.SUPERSEDED:
        return (
            f"That appeal was answered by a later decision (#{appeal.new_decision_id}) on "
            "the conversation."
        )
    return f"That appeal is decided: {appeal.get_outcome_display().lower()}."


@tenant_page(Capability.DECIDE_APPEAL)
@require_GET
def appeal_page(request: ArtemisRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal(request, appeal_id)
    if not _held_here(request, appeal):
        # Only the member holding the lease sees it: the decider never can.
        messages.info(request, _not_yours(appeal))
        return redirect("appeals:appeals", tenant_slug=request.tenant.slug)
    return _page(request, appeal, AppealDecisionForm(supervisor=_supervisor(request)))


@tenant_page(Capability.DECIDE_APPEAL)
@require_POST
def decide(request: ArtemisRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal(request, appeal_id)
    form = AppealDecisionForm(request.POST, supervisor=_supervisor(request))
    if not form.is_valid():
        if not _held_here(request, appeal):
            return redirect("appeals:appeals", tenant_slug=request.tenant.slug)
        return _page(request, appeal, form, status=400)
    try:
        decided = services.appeal_decide(
            appeal=appeal,
            reviewer=request.user,
            outcome=form.cleaned_data["outcome"],
            verdict=form.cleaned_data["verdict"],
            reason_code=form.cleaned_data["reason_code"],
            notes=form.cleaned_data["notes"],
        )
    except ReviewError as exc:
        if not _held_here(request, appeal):
            # Not (or no longer) theirs: the transcript is shown only under a live lease.
            messages.error(request, str(exc))
            return redirect("appeals:appeals", tenant_slug=request.tenant.slug)
        add_to_form(form, exc)
        return _page(request, appeal, form, status=exc.http_status)
    if decided.status == AppealStatus.DONE:
        messages.success(
            request,
            f"Appeal {decided.external_id} {decided.get_outcome_display().lower()}; "
            "the platform is told.",
        )
    else:
        messages.success(request, f"Appeal {decided.external_id} referred to a supervisor.")
    return redirect("appeals:appeals", tenant_slug=request.tenant.slug)


@tenant_page(Capability.DECIDE_APPEAL)
@require_POST
def release(request: ArtemisRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal(request, appeal_id)
    return lease_released(
        request,
        lambda: services.appeal_release(appeal=appeal, reviewer=request.user),
        back="appeals:appeals",
        said=lambda _: (
            f"Skipped appeal {appeal.external_id}: it is back among the waiting appeals, for "
            "whoever takes it next."
        ),
    )


@tenant_page(Capability.DECIDE_APPEAL)
@require_POST
def renew(request: ArtemisRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal(request, appeal_id)
    return lease_renewed(lambda: services.appeal_renew(appeal=appeal, reviewer=request.user))
