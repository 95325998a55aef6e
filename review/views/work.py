"""A moderator's work loop: take the next item, review it, reveal, decide, skip.

Each POST without htmx redirects (the page works without JavaScript); with htmx, the reveal
returns just the message fragment."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from review import selectors
from review.forms import DecisionForm
from review.models import ESCALATIONS, AuditAction, Message, QueueItem, ReviewError
from review.services import audit, moderation, queue
from review.views.base import ArtemisRequest, tenant_page
from review.views.review import Row, review_context


def _item(request: ArtemisRequest, item_id: int) -> QueueItem:
    try:
        return selectors.queue_item_get(tenant=request.tenant, pk=item_id)
    except QueueItem.DoesNotExist:
        raise Http404("no such queue item") from None


def _revealed(request: ArtemisRequest, item: QueueItem) -> set[int]:
    return set(request.session.get(f"revealed-{item.pk}", []))


def _claim_and_open(request: ArtemisRequest) -> HttpResponse:
    item = queue.queue_item_claim_next(tenant=request.tenant, moderator=request.user)
    if item is None:
        messages.info(request, "Nothing is waiting. Well done.")
        return redirect("queue", tenant_slug=request.tenant.slug)
    return redirect("review", tenant_slug=request.tenant.slug, item_id=item.pk)


@tenant_page()
@require_POST
def take_next(request: ArtemisRequest) -> HttpResponse:
    return _claim_and_open(request)


@tenant_page()
@require_GET
def review(request: ArtemisRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    mine = item.claimed_by_id == request.user.pk and item.status == "claimed"
    context = review_context(
        request, item=item, conversation=item.conversation, revealed=_revealed(request, item)
    )
    rows: list[Row] = context["rows"]  # type: ignore[assignment]
    audit.audit_record(
        tenant=request.tenant,
        actor=request.user,
        action=AuditAction.VIEW,
        target_type="conversation",
        target_id=str(item.conversation_id),
        detail={
            "queue_item": item.pk,
            "messages": item.conversation.message_count,
            "highlighted": len({h["message"] for h in item.assessment.highlights}),
            # What was on screen, so the trail can tell whether a person saw the whole
            # transcript (NCMEC's fileViewedByEsp): the last message shown and the ones
            # kept hidden until revealed.
            "through_position": rows[-1].message.position if rows else None,
            "blurred": [row.message.pk for row in rows if row.blurred],
        },
        ip=request.META.get("REMOTE_ADDR"),
    )
    context["mine"] = mine
    context["form"] = DecisionForm()
    context["exposure"] = selectors.moderator_exposure(
        tenant=request.tenant, moderator=request.user
    )
    return render(request, "review/item.html", context)


@tenant_page()
@require_POST
def reveal(request: ArtemisRequest, item_id: int, message_id: int) -> HttpResponse:
    item = _item(request, item_id)
    try:
        message = selectors.message_list(tenant=request.tenant, conversation=item.conversation).get(
            pk=message_id
        )
    except Message.DoesNotExist:
        raise Http404("no such message") from None
    moderation.message_reveal(tenant=request.tenant, moderator=request.user, message=message)
    key = f"revealed-{item.pk}"
    request.session[key] = sorted(set(request.session.get(key, [])) | {message.pk})
    if not request.htmx:
        # The second-review and supervisor pages show the same transcript and send back here.
        back = request.POST.get("next", "")
        if back.startswith(f"/t/{request.tenant.slug}/") and url_has_allowed_host_and_scheme(
            back, {request.get_host()}, request.is_secure()
        ):
            return redirect(f"{back}#msg-{message.pk}")
        return redirect(f"/t/{request.tenant.slug}/items/{item.pk}#msg-{message.pk}")
    context = review_context(
        request, item=item, conversation=item.conversation, revealed=_revealed(request, item)
    )
    row = next(r for r in context["rows"] if r.message.pk == message.pk)  # type: ignore[attr-defined]
    return render(request, "review/review.html#message-row", {**context, "row": row})


@tenant_page()
@require_POST
def decide(request: ArtemisRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        context = review_context(
            request, item=item, conversation=item.conversation, revealed=_revealed(request, item)
        )
        context.update(mine=True, form=form)
        return render(request, "review/item.html", context, status=400)
    try:
        decision = moderation.decision_create(
            item=item,
            moderator=request.user,
            verdict=form.cleaned_data["verdict"],
            reason_code=form.cleaned_data["reason_code"],
            notes=form.cleaned_data["notes"],
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
        return redirect("review", tenant_slug=request.tenant.slug, item_id=item.pk)
    messages.success(request, f"Decision recorded for {item.conversation.external_id}.")
    if decision.verdict in ESCALATIONS:
        # An escalation is not done until its case is written: straight to the editor.
        return redirect("case", tenant_slug=request.tenant.slug, case_id=decision.case.pk)
    if request.POST.get("then") == "next":
        return _claim_and_open(request)
    return redirect("queue", tenant_slug=request.tenant.slug)


@tenant_page()
@require_POST
def release(request: ArtemisRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    try:
        queue.queue_item_release(item=item, moderator=request.user, reason="skipped")
    except ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("queue", tenant_slug=request.tenant.slug)


@tenant_page()
@require_POST
def renew(request: ArtemisRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    try:
        queue.queue_item_renew(item=item, moderator=request.user)
    except ReviewError as exc:
        return HttpResponse(str(exc), status=exc.http_status)
    return HttpResponse(status=204)
