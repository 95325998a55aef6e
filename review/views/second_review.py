"""Blind second reviews, for any member: take the next one, judge the conversation as it
stood when it was decided, without seeing the first verdict, reason, notes or decider.

Each POST without htmx redirects; the page works without JavaScript."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from review import selectors, selectors_supervision
from review.forms_supervision import SecondReviewForm
from review.models import AuditAction, ReviewError, SecondReview, SecondReviewStatus
from review.services import audit, second_review
from review.views.base import ArtemisRequest, tenant_page
from review.views.review import review_context


def _review(request: ArtemisRequest, review_id: int) -> SecondReview:
    try:
        return selectors_supervision.second_review_get(tenant=request.tenant, pk=review_id)
    except SecondReview.DoesNotExist:
        raise Http404("no such second review") from None


def _claim_and_open(request: ArtemisRequest) -> HttpResponse:
    review = second_review.second_review_claim_next(tenant=request.tenant, reviewer=request.user)
    if review is None:
        messages.info(request, "No second review is waiting for you.")
        return redirect("second_reviews", tenant_slug=request.tenant.slug)
    return redirect("second_review", tenant_slug=request.tenant.slug, review_id=review.pk)


@tenant_page()
@require_GET
def second_reviews(request: ArtemisRequest) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "review/second_reviews.html",
        {
            "tenant": tenant,
            "membership": request.membership,
            "waiting": selectors_supervision.second_review_waiting_for(
                tenant=tenant, reviewer=request.user
            ),
            "held": selectors_supervision.second_review_held(tenant=tenant, reviewer=request.user),
            "done": selectors_supervision.second_reviews_done_by(
                tenant=tenant, reviewer=request.user
            ),
            "share": tenant.second_review_share,
        },
    )


@tenant_page()
@require_POST
def second_review_next(request: ArtemisRequest) -> HttpResponse:
    return _claim_and_open(request)


def _page(
    request: ArtemisRequest, review: SecondReview, form: SecondReviewForm, status: int = 200
) -> HttpResponse:
    decision = review.decision
    key = f"revealed-{decision.queue_item_id}"
    context = review_context(
        request,
        item=decision.queue_item,
        conversation=review.conversation,
        revealed=set(request.session.get(key, [])),
        as_of=decision.created_at,
    )
    context.update(
        review=review,
        form=form,
        reveal_next=request.path,
        exposure=selectors.moderator_exposure(tenant=request.tenant, moderator=request.user),
    )
    return render(request, "review/second_review.html", context, status=status)


@tenant_page()
@require_GET
def second_review_page(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    held = selectors_supervision.second_review_held(tenant=request.tenant, reviewer=request.user)
    if held is None or held.pk != review.pk:
        # Only the member holding the lease sees it: the original decider never can.
        done = review.status == SecondReviewStatus.DONE
        messages.info(
            request,
            "That second review is done."
            if done
            else "That second review is not leased to you; take the next one here.",
        )
        return redirect("second_reviews", tenant_slug=request.tenant.slug)
    assessment = review.decision.queue_item.assessment
    audit.audit_record(
        tenant=request.tenant,
        actor=request.user,
        action=AuditAction.VIEW,
        target_type="conversation",
        target_id=str(review.conversation_id),
        detail={
            "second_review": review.pk,
            "messages": review.conversation.message_count,
            "highlighted": len({h["message"] for h in assessment.highlights}),
        },
        ip=request.META.get("REMOTE_ADDR"),
    )
    return _page(request, review, SecondReviewForm())


@tenant_page()
@require_POST
def second_review_record(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    form = SecondReviewForm(request.POST)
    if not form.is_valid():
        held = selectors_supervision.second_review_held(
            tenant=request.tenant, reviewer=request.user
        )
        if held is None or held.pk != review.pk:
            return redirect("second_reviews", tenant_slug=request.tenant.slug)
        return _page(request, review, form, status=400)
    try:
        second_review.second_review_record(
            review=review,
            reviewer=request.user,
            verdict=form.cleaned_data["verdict"],
            reason_code=form.cleaned_data["reason_code"],
            notes=form.cleaned_data["notes"],
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
        return redirect("second_reviews", tenant_slug=request.tenant.slug)
    # Blind both ways: the reviewer is not told whether they agreed.
    messages.success(
        request,
        f"Second review of {review.conversation.external_id} recorded. "
        "Supervisors see any difference from the first decision.",
    )
    if request.POST.get("then") == "next":
        return _claim_and_open(request)
    return redirect("second_reviews", tenant_slug=request.tenant.slug)


@tenant_page()
@require_POST
def second_review_release(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    try:
        second_review.second_review_release(review=review, reviewer=request.user)
    except ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("second_reviews", tenant_slug=request.tenant.slug)


@tenant_page()
@require_POST
def second_review_renew(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    try:
        second_review.second_review_renew(review=review, reviewer=request.user)
    except ReviewError as exc:
        return HttpResponse(str(exc), status=exc.http_status)
    return HttpResponse(status=204)
