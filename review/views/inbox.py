"""The supervisors' inbox: questions ("ask a supervisor") and second-review disagreements,
and the page where a supervisor answers one with a decision that supersedes the current
one, or upholds the first decision of a disagreement."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from review import selectors, selectors_supervision
from review.capabilities import Capability
from review.forms_supervision import SupervisorDecisionForm
from review.models import (
    ESCALATIONS,
    AuditAction,
    Conversation,
    Decision,
    ReviewError,
    SecondReview,
)
from review.services import audit, second_review, supervision
from review.views.base import ArtemisRequest, tenant_page
from review.views.review import review_context


@tenant_page(Capability.SUPERVISE)
@require_GET
def inbox(request: ArtemisRequest) -> HttpResponse:
    tenant = request.tenant
    questions = list(selectors_supervision.question_list(tenant=tenant)[:200])
    disagreements = list(selectors_supervision.disagreement_list(tenant=tenant)[:200])
    audit.audit_record(
        tenant=tenant,
        actor=request.user,
        action=AuditAction.REPORT_VIEW,
        target_type="inbox",
        detail={"questions": len(questions), "disagreements": len(disagreements)},
        ip=request.META.get("REMOTE_ADDR"),
    )
    return render(
        request,
        "review/inbox.html",
        {
            "tenant": tenant,
            "membership": request.membership,
            "questions": questions,
            "disagreements": disagreements,
        },
    )


def _conversation(request: ArtemisRequest, conversation_id: int) -> Conversation:
    try:
        return selectors_supervision.conversation_for_supervisor(
            tenant=request.tenant, pk=conversation_id
        )
    except Conversation.DoesNotExist:
        raise Http404("no such decided conversation") from None


def _page(
    request: ArtemisRequest,
    conversation: Conversation,
    form: SupervisorDecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request.tenant
    current = selectors_supervision.decision_current(tenant=tenant, conversation=conversation)
    assert current is not None  # conversation_for_supervisor only returns decided ones
    key = f"revealed-{current.queue_item_id}"
    context = review_context(
        request,
        item=current.queue_item,
        conversation=conversation,
        revealed=set(request.session.get(key, [])),
    )
    history = selectors_supervision.decision_history(tenant=tenant, conversation=conversation)
    context.update(
        current=current,
        decisions=history,
        open_disagreements=[
            d.review  # type: ignore[attr-defined]
            for d in history
            if d.review is not None and d.review.disagreement_open  # type: ignore[attr-defined]
        ],
        form=form or SupervisorDecisionForm(initial={"supersedes": current.pk}),
        reveal_next=request.path,
        exposure=selectors.moderator_exposure(tenant=tenant, moderator=request.user),
    )
    return render(request, "review/supervisor_review.html", context, status=status)


@tenant_page(Capability.READ_DECISIONS)
@require_GET
def supervisor_review(request: ArtemisRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    assessment = selectors.assessment_latest(tenant=request.tenant, conversation=conversation)
    audit.audit_record(
        tenant=request.tenant,
        actor=request.user,
        action=AuditAction.VIEW,
        target_type="conversation",
        target_id=str(conversation.pk),
        detail={
            "supervisor": True,
            "messages": conversation.message_count,
            "highlighted": len({h["message"] for h in assessment.highlights}) if assessment else 0,
        },
        ip=request.META.get("REMOTE_ADDR"),
    )
    return _page(request, conversation)


@tenant_page(Capability.SUPERVISE)
@require_POST
def supervisor_decide(request: ArtemisRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    form = SupervisorDecisionForm(request.POST)
    if not form.is_valid():
        return _page(request, conversation, form, status=400)
    try:
        shown = selectors_supervision.decision_get(
            tenant=request.tenant, pk=form.cleaned_data["supersedes"]
        )
    except Decision.DoesNotExist:
        raise Http404("no such decision") from None
    if shown.conversation_id != conversation.pk:
        raise Http404("no such decision on this conversation")
    try:
        decision = supervision.decision_supersede(
            tenant=request.tenant,
            current=shown,
            supervisor=request.user,
            verdict=form.cleaned_data["verdict"],
            reason_code=form.cleaned_data["reason_code"],
            notes=form.cleaned_data["notes"],
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
        return redirect(
            "supervisor_review", tenant_slug=request.tenant.slug, conversation_id=conversation.pk
        )
    messages.success(request, f"Decision recorded for {conversation.external_id}.")
    if decision.verdict in ESCALATIONS:
        # An escalation is not done until its case is written: straight to the editor.
        return redirect("case", tenant_slug=request.tenant.slug, case_id=decision.case.pk)
    return redirect("inbox", tenant_slug=request.tenant.slug)


@tenant_page(Capability.SUPERVISE)
@require_POST
def disagreement_uphold(request: ArtemisRequest, review_id: int) -> HttpResponse:
    try:
        review = selectors_supervision.second_review_get(tenant=request.tenant, pk=review_id)
    except SecondReview.DoesNotExist:
        raise Http404("no such second review") from None
    try:
        second_review.disagreement_uphold(review=review, supervisor=request.user)
    except ReviewError as exc:
        messages.error(request, str(exc))
        return redirect(
            "supervisor_review",
            tenant_slug=request.tenant.slug,
            conversation_id=review.conversation_id,
        )
    messages.success(
        request, f"First decision on {review.conversation.external_id} upheld; nothing changed."
    )
    return redirect("inbox", tenant_slug=request.tenant.slug)
