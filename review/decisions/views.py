"""Decision pages: a moderator's work loop (take, review, reveal, decide, skip), blind second
reviews, the supervisor's inbox and superseding decisions, the decision log, agreement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from review import csv_safe
from review.appeals import selectors as appeal_selectors
from review.audit import services as audit
from review.audit.services import audit_record
from review.cases import selectors as case_selectors
from review.decisions import second_review, selectors, services, supervision
from review.decisions.forms import DecisionForm, SecondReviewForm, SupervisorDecisionForm
from review.errors import add_to_form
from review.filters import date_range
from review.intake import selectors as intake_selectors
from review.models import (
    ESCALATIONS,
    Assessment,
    AuditAction,
    Conversation,
    QueueItem,
    QueueStatus,
    ReviewError,
    SecondReview,
    SecondReviewStatus,
    Verdict,
)
from review.queue import selectors as queue_selectors
from review.queue import services as queue
from review.queue.lease_views import lease_left, lease_released, lease_renewed
from review.queue.leases import QUEUE_ITEM, SECOND_REVIEW
from review.signin.client_ip import client_ip
from review.tenancy.access import ArtemisRequest, found_or_404, tenant_page
from review.tenancy.capabilities import Capability
from review.transcript import review_context, transcript_view_record

# "UTC-0700", as a datetime's %z writes an offset (the scoring engine's factors).
_COMPACT_OFFSET = re.compile(r"\bUTC([+-])(\d{2})(\d{2})\b")


def factor_lines(factors: list[str]) -> list[str]:
    """The assessment's factors with every UTC offset written as the transcript writes it,
    UTC-07:00: one page, one form. Stored factors are left as they were scored."""
    return [_COMPACT_OFFSET.sub(r"UTC\1\2:\3", line) for line in factors]


def _review_context(request: ArtemisRequest, **kwargs: Any) -> dict[str, object]:
    """``review_context`` with the factors as the page shows them (``factor_lines``)."""
    context = review_context(request, **kwargs)
    assessment: Assessment | None = context["assessment"]  # type: ignore[assignment]
    context["factors"] = factor_lines(assessment.factors if assessment else [])
    return context


def _item(request: ArtemisRequest, item_id: int) -> QueueItem:
    return found_or_404(
        lambda: queue_selectors.queue_item_get(tenant=request.tenant, pk=item_id), "queue item"
    )


def _revealed(request: ArtemisRequest, item: QueueItem) -> set[int]:
    return set(request.session.get(f"revealed-{item.pk}", []))


def _claim_and_open(request: ArtemisRequest) -> HttpResponse:
    item = queue.queue_item_claim_next(tenant=request.tenant, moderator=request.user)
    if item is None:
        messages.info(request, "Nothing is waiting. Well done.")
        return redirect("queue:queue", tenant_slug=request.tenant.slug)
    return redirect("decisions:review", tenant_slug=request.tenant.slug, item_id=item.pk)


@tenant_page(Capability.DECIDE)
@require_POST
def take_next(request: ArtemisRequest) -> HttpResponse:
    return _claim_and_open(request)


def _item_page(
    request: ArtemisRequest,
    item: QueueItem,
    form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _review_context(
        request, item=item, conversation=item.conversation, revealed=_revealed(request, item)
    )
    transcript_view_record(request, context, queue_item=item.pk)
    mine = item.claimed_by_id == request.user.pk and item.status == QueueStatus.CLAIMED
    if form is not None:
        # A refused decision: the page again with what was chosen and typed beside the
        # refusal (minutes of writing are never lost). The lease's countdown and renewal
        # only when the lease is hers: refused because it ran out and someone else took the
        # item, it would show that person's lease as hers.
        context.update(mine=True, form=form, lease_held=mine)
        if mine:
            context.update(lease_left(item.lease_expires_at, QUEUE_ITEM))
        return render(request, "review/decisions/item.html", context, status=status)
    context["mine"] = mine
    context["lease_held"] = mine
    withheld = selectors.verdicts_withheld(tenant=request.tenant, membership=request.membership)
    if item.status == QueueStatus.DECIDED and withheld.filter(pk=item.conversation_id).exists():
        # Under a blind second review she may be handed: "Decided", and nothing of the verdict.
        context["decided"] = None
    elif item.status == QueueStatus.DECIDED:
        # Read after the fact (from a case, the log): what was decided, by whom, and when.
        decided = selectors.decision_of_item(tenant=request.tenant, item=item)
        current = selectors.decision_current(tenant=request.tenant, conversation=item.conversation)
        context["decided"] = decided
        context["decided_now"] = current if current is not None and current != decided else None
        context["decided_case"] = (
            case_selectors.case_list_visible(tenant=request.tenant, membership=request.membership)
            .filter(decision=decided)
            .first()
            if decided is not None
            else None
        )
    context["form"] = DecisionForm()
    context.update(lease_left(item.lease_expires_at, QUEUE_ITEM))
    context["exposure"] = selectors.moderator_exposure(
        tenant=request.tenant, moderator=request.user
    )
    return render(request, "review/decisions/item.html", context, status=status)


@tenant_page(Capability.DECIDE)
@require_GET
def review(request: ArtemisRequest, item_id: int) -> HttpResponse:
    return _item_page(request, _item(request, item_id))


@tenant_page(Capability.DECIDE)
@require_POST
def reveal(request: ArtemisRequest, item_id: int, message_id: int) -> HttpResponse:
    item = _item(request, item_id)
    message = found_or_404(
        lambda: intake_selectors.message_list(
            tenant=request.tenant, conversation=item.conversation
        ).get(pk=message_id),
        "message",
    )
    services.message_reveal(tenant=request.tenant, moderator=request.user, message=message)
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
    return render(request, "review/decisions/review.html#message-row", {**context, "row": row})


@tenant_page(Capability.DECIDE)
@require_POST
def decide(request: ArtemisRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _item_page(request, item, form, 400)
    try:
        decision = services.decision_create(
            item=item,
            moderator=request.user,
            verdict=form.cleaned_data["verdict"],
            reason_code=form.cleaned_data["reason_code"],
            notes=form.cleaned_data["notes"],
        )
    except ReviewError as exc:
        already = selectors.decision_of_item(tenant=request.tenant, item=item)
        if already is not None and already.moderator_id == request.user.pk:
            # Sent twice (a double click, the back button): hers is recorded, once.
            messages.info(
                request,
                f"You already decided {item.conversation.external_id}: "
                f"{already.get_verdict_display()}, at {already.created_at:%H:%M} UTC. "
                "Nothing was recorded twice.",
            )
            return redirect("decisions:review", tenant_slug=request.tenant.slug, item_id=item.pk)
        add_to_form(form, exc)
        return _item_page(request, item, form, exc.http_status)
    messages.success(request, f"Decision recorded for {item.conversation.external_id}.")
    if decision.verdict in ESCALATIONS:
        # An escalation is not done until its case is written: straight to the editor.
        return redirect("cases:case", tenant_slug=request.tenant.slug, case_id=decision.case.pk)
    if request.POST.get("then") == "next":
        return _claim_and_open(request)
    return redirect("queue:queue", tenant_slug=request.tenant.slug)


def _skipped(request: ArtemisRequest, item: QueueItem) -> str:
    """What a skip did, for the queue page: a skip that said nothing looked like a click
    that was lost."""
    name = item.conversation.external_id
    try:
        queue_selectors.queue_item_get(tenant=request.tenant, pk=item.pk)
    except QueueItem.DoesNotExist:
        # A policy change while she held it, applied on release, took it out of the queue.
        return f"Skipped {name}: a policy change since you took it has taken it out of the queue."
    minutes = int(QUEUE_ITEM.duration.total_seconds() // 60)
    return (
        f"Skipped {name}: it is back in the queue for the other moderators. "
        f"For the next {minutes} minutes you are handed other items first."
    )


@tenant_page(Capability.DECIDE)
@require_POST
def release(request: ArtemisRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    return lease_released(
        request,
        lambda: queue.queue_item_release(item=item, moderator=request.user, reason="skipped"),
        back="queue:queue",
        said=lambda released: _skipped(request, released),
    )


@tenant_page(Capability.DECIDE)
@require_POST
def renew(request: ArtemisRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    return lease_renewed(lambda: queue.queue_item_renew(item=item, moderator=request.user))


def _review(request: ArtemisRequest, review_id: int) -> SecondReview:
    return found_or_404(
        lambda: selectors.second_review_get(tenant=request.tenant, pk=review_id),
        "second review",
    )


def _claim_and_open_review(request: ArtemisRequest) -> HttpResponse:
    review = second_review.second_review_claim_next(tenant=request.tenant, reviewer=request.user)
    if review is None:
        messages.info(request, "No second review is waiting for you.")
        return redirect("decisions:second_reviews", tenant_slug=request.tenant.slug)
    return redirect("decisions:second_review", tenant_slug=request.tenant.slug, review_id=review.pk)


@tenant_page(Capability.DECIDE)
@require_GET
def second_reviews(request: ArtemisRequest) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "review/decisions/second_reviews.html",
        {
            "tenant": tenant,
            "membership": request.membership,
            "waiting": selectors.second_review_waiting_for(tenant=tenant, reviewer=request.user),
            "held": selectors.second_review_held(tenant=tenant, reviewer=request.user),
            "done": selectors.second_reviews_done_by(tenant=tenant, reviewer=request.user),
            "share": tenant.second_review_share,
        },
    )


@tenant_page(Capability.DECIDE)
@require_POST
def second_review_next(request: ArtemisRequest) -> HttpResponse:
    return _claim_and_open_review(request)


def _page(
    request: ArtemisRequest, review: SecondReview, form: SecondReviewForm, status: int = 200
) -> HttpResponse:
    decision = review.decision
    key = f"revealed-{decision.queue_item_id}"
    context = _review_context(
        request,
        item=decision.queue_item,
        conversation=review.conversation,
        revealed=set(request.session.get(key, [])),
        as_of=decision.created_at,
    )
    transcript_view_record(request, context, second_review=review.pk)
    context.update(
        review=review,
        form=form,
        reveal_next=request.path,
        exposure=selectors.moderator_exposure(tenant=request.tenant, moderator=request.user),
        **lease_left(review.lease_expires_at, SECOND_REVIEW),
    )
    return render(request, "review/decisions/second_review.html", context, status=status)


@tenant_page(Capability.DECIDE)
@require_GET
def second_review_page(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    held = selectors.second_review_held(tenant=request.tenant, reviewer=request.user)
    if held is None or held.pk != review.pk:
        # Only the member holding the lease sees it: the original decider never can.
        done = review.status == SecondReviewStatus.DONE
        messages.info(
            request,
            "That second review is done."
            if done
            else "That second review is not leased to you; take the next one here.",
        )
        return redirect("decisions:second_reviews", tenant_slug=request.tenant.slug)
    return _page(request, review, SecondReviewForm())


@tenant_page(Capability.DECIDE)
@require_POST
def second_review_record(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    form = SecondReviewForm(request.POST)
    if not form.is_valid():
        held = selectors.second_review_held(tenant=request.tenant, reviewer=request.user)
        if held is None or held.pk != review.pk:
            return redirect("decisions:second_reviews", tenant_slug=request.tenant.slug)
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
        held = selectors.second_review_held(tenant=request.tenant, reviewer=request.user)
        if held is None or held.pk != review.pk:
            # Not (or no longer) hers: the transcript is shown only under a live lease.
            messages.error(request, str(exc))
            return redirect("decisions:second_reviews", tenant_slug=request.tenant.slug)
        add_to_form(form, exc)
        return _page(request, review, form, status=exc.http_status)
    # Blind both ways: the reviewer is not told whether they agreed.
    messages.success(
        request,
        f"Second review of {review.conversation.external_id} recorded. "
        "Supervisors see any difference from the first decision.",
    )
    if request.POST.get("then") == "next":
        return _claim_and_open_review(request)
    return redirect("decisions:second_reviews", tenant_slug=request.tenant.slug)


@tenant_page(Capability.DECIDE)
@require_POST
def second_review_release(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    return lease_released(
        request,
        lambda: second_review.second_review_release(review=review, reviewer=request.user),
        back="decisions:second_reviews",
        said=lambda _: (
            f"Skipped the second review of {review.conversation.external_id}: "
            "it is back among the waiting second reviews, for whoever takes it next."
        ),
    )


@tenant_page(Capability.DECIDE)
@require_POST
def second_review_renew(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    return lease_renewed(
        lambda: second_review.second_review_renew(review=review, reviewer=request.user)
    )


@tenant_page(Capability.SUPERVISE)
@require_GET
def inbox(request: ArtemisRequest) -> HttpResponse:
    tenant = request.tenant
    questions = list(selectors.question_list(tenant=tenant)[:200])
    disagreements = list(selectors.disagreement_list(tenant=tenant)[:200])
    now = timezone.now()
    overdue = [
        {"appeal": a, "age": appeal_selectors.appeal_age_days(a, now=now)}
        for a in appeal_selectors.appeals_overdue(tenant=tenant, now=now)[:200]
    ]
    referred = list(appeal_selectors.appeals_open(tenant=tenant).filter(referred_at__isnull=False))
    audit.audit_record(
        tenant=tenant,
        actor=request.user,
        action=AuditAction.REPORT_VIEW,
        target_type="inbox",
        detail={
            "questions": len(questions),
            "disagreements": len(disagreements),
            "appeals_overdue": len(overdue),
            "appeals_referred": len(referred),
        },
        ip=client_ip(request),
    )
    return render(
        request,
        "review/decisions/inbox.html",
        {
            "tenant": tenant,
            "membership": request.membership,
            "questions": questions,
            "disagreements": disagreements,
            "overdue_appeals": overdue,
            "referred_appeals": referred,
            "appeal_target_days": tenant.appeal_target_days,
        },
    )


def _conversation(request: ArtemisRequest, conversation_id: int) -> Conversation:
    return found_or_404(
        lambda: selectors.conversation_for_supervisor(tenant=request.tenant, pk=conversation_id),
        "decided conversation",
    )


def _supervisor_page(
    request: ArtemisRequest,
    conversation: Conversation,
    form: SupervisorDecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request.tenant
    current = selectors.decision_current(tenant=tenant, conversation=conversation)
    assert current is not None  # conversation_for_supervisor only returns decided ones
    key = f"revealed-{current.queue_item_id}"
    context = _review_context(
        request,
        item=current.queue_item,
        conversation=conversation,
        revealed=set(request.session.get(key, [])),
    )
    transcript_view_record(request, context, supervisor=True)
    history = selectors.decision_history(tenant=tenant, conversation=conversation)
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
    return render(request, "review/decisions/supervisor_review.html", context, status=status)


@tenant_page(Capability.READ_DECISIONS)
@require_GET
def supervisor_review(request: ArtemisRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    return _supervisor_page(request, conversation)


@tenant_page(Capability.SUPERVISE)
@require_POST
def supervisor_decide(request: ArtemisRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    form = SupervisorDecisionForm(request.POST)
    if not form.is_valid():
        return _supervisor_page(request, conversation, form, status=400)
    shown = found_or_404(
        lambda: selectors.decision_get(tenant=request.tenant, pk=form.cleaned_data["supersedes"]),
        "decision",
    )
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
        add_to_form(form, exc)
        return _supervisor_page(request, conversation, form, status=exc.http_status)
    messages.success(request, f"Decision recorded for {conversation.external_id}.")
    if decision.verdict in ESCALATIONS:
        # An escalation is not done until its case is written: straight to the editor.
        return redirect("cases:case", tenant_slug=request.tenant.slug, case_id=decision.case.pk)
    return redirect("decisions:inbox", tenant_slug=request.tenant.slug)


@tenant_page(Capability.SUPERVISE)
@require_POST
def disagreement_uphold(request: ArtemisRequest, review_id: int) -> HttpResponse:
    review = _review(request, review_id)
    try:
        second_review.disagreement_uphold(review=review, supervisor=request.user)
    except ReviewError as exc:
        messages.error(request, str(exc))
        return redirect(
            "decisions:supervisor_review",
            tenant_slug=request.tenant.slug,
            conversation_id=review.conversation_id,
        )
    messages.success(
        request, f"First decision on {review.conversation.external_id} upheld; nothing changed."
    )
    return redirect("decisions:inbox", tenant_slug=request.tenant.slug)


class _Echo:
    def write(self, value: str) -> str:
        return value


@tenant_page(Capability.READ_DECISIONS)
@require_GET
def decision_log(request: ArtemisRequest) -> HttpResponse:
    verdict = request.GET.get("verdict", "")
    verdict = verdict if verdict in Verdict.values else ""
    filters = {
        "verdict": verdict,
        "moderator": request.GET.get("moderator", "").strip()[:150],
        "conversation": request.GET.get("conversation", "").strip()[:200],
        "from": request.GET.get("from", ""),
        "to": request.GET.get("to", ""),
    }
    start, end, errors = date_range(request.GET)
    context = {
        "tenant": request.tenant,
        "membership": request.membership,
        "verdicts": Verdict.choices,
        "filters": filters,
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "errors": list(errors.values()),
    }
    if errors:
        # A bad date names its field and lists nothing rather than the wrong decisions.
        return render(
            request, "review/decisions/decisions.html", {**context, "decisions": []}, status=400
        )
    decisions = selectors.decision_list(
        tenant=request.tenant,
        verdict=verdict,
        moderator=filters["moderator"],
        conversation=filters["conversation"],
        start=start,
        end=end,
    )
    if request.GET.get("format") == "csv":
        audit_record(
            tenant=request.tenant,
            actor=request.user,
            action=AuditAction.EXPORT,
            target_type="decision_log",
            detail={**filters, "rows": decisions.count()},
            ip=client_ip(request),
        )
        # Conversation ids come from the platform and notes from people: the writer keeps
        # "=1+1" from running.
        writer = csv_safe.writer(_Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow(
                [
                    "decided_at", "conversation", "moderator", "verdict", "reason_code",
                    "supersedes", "notes",
                ]
            )  # fmt: skip
            for d in decisions.iterator():
                yield writer.writerow(
                    [
                        d.created_at.isoformat(),
                        d.conversation.external_id,
                        d.moderator.get_username(),
                        d.verdict,
                        d.reason_code,
                        d.supersedes_id or "",
                        d.notes,
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="decisions-{request.tenant.slug}.csv"'
        )
        return response
    return render(
        request, "review/decisions/decisions.html", {**context, "decisions": decisions[:200]}
    )


PRESETS = {"7": 7, "30": 30, "90": 90, "all": None}
DEFAULT_DAYS = "30"


def _period(
    request: ArtemisRequest,
) -> tuple[datetime | None, datetime | None, str, dict[str, str]]:
    """[start, end) in UTC from ?from=&to= (``date_range``) or ?days=7|30|90|all."""
    start, end, errors = date_range(request.GET)
    if errors or start or end:
        return start, end, "", errors
    days = request.GET.get("days", DEFAULT_DAYS)
    if days not in PRESETS:
        errors["days"] = f"days: choose one of {', '.join(PRESETS)}"
        days = DEFAULT_DAYS
    span = PRESETS[days]
    start = None if span is None else timezone.now() - timedelta(days=span)
    return start, None, days, errors


def _number(value: float | None, digits: int = 2) -> Decimal | str:
    # A Decimal, not text: the CSV writer keeps numbers as they are, so a negative kappa
    # stays -0.2500 (text starting with "-" would get a leading apostrophe).
    return "" if value is None else Decimal(f"{value:.{digits}f}")


def _with_appeals(
    report: selectors.AgreementReport, rates: dict[int, appeal_selectors.AppealRate]
) -> list[tuple[selectors.ModeratorAgreement, appeal_selectors.AppealRate]]:
    """Each row of the report (the total last) with the appeals of its member's decisions
    decided in the period, and how many overturned the decision."""
    rows = [
        (row, rates.get(row.user_id) or appeal_selectors.AppealRate(row.user_id, 0, 0))
        for row in report.rows
    ]
    total = appeal_selectors.AppealRate(
        0, sum(r.appealed for r in rates.values()), sum(r.overturned for r in rates.values())
    )
    return [*rows, (report.total, total)]


@tenant_page(Capability.SUPERVISE)
@require_GET
def agreement(request: ArtemisRequest) -> HttpResponse:
    start, end, preset, errors = _period(request)
    if errors:
        # A bad filter names its field and shows no figures rather than the wrong ones.
        return render(
            request,
            "review/decisions/agreement.html",
            {
                "tenant": request.tenant,
                "membership": request.membership,
                "report": None,
                "errors": list(errors.values()),
                "preset": "",
                "presets": list(PRESETS),
                "from": request.GET.get("from", ""),
                "to": request.GET.get("to", ""),
            },
            status=400,
        )
    report = selectors.agreement_report(tenant=request.tenant, start=start, end=end)
    appeal_rates = appeal_selectors.appeal_overturn_rates(
        tenant=request.tenant, start=start, end=end
    )
    period = {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }
    if request.GET.get("format") == "csv":
        audit_record(
            tenant=request.tenant,
            actor=request.user,
            action=AuditAction.EXPORT,
            target_type="agreement_report",
            detail={**period, "rows": len(report.rows)},
            ip=client_ip(request),
        )
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="agreement-{request.tenant.slug}.csv"'
        )
        writer = csv_safe.writer(response)
        writer.writerow(
            [
                "moderator", "role", "decisions", "questions", "second_reviews_done",
                "decisions_second_reviewed", "agreed", "agreement_rate", "cohen_kappa",
                "overturned", "overturn_rate", "appeals_decided", "overturned_on_appeal",
                "appeal_overturn_rate", "period_from", "period_to",
            ]
        )  # fmt: skip
        for row, appeals in _with_appeals(report, appeal_rates):
            writer.writerow(
                [
                    row.username, row.role, row.decisions, row.questions, row.reviews_done,
                    row.reviewed, row.agreed, _number(row.agreement, 4), _number(row.kappa, 4),
                    row.overturned, _number(row.overturn_rate, 4),
                    appeals.appealed, appeals.overturned, _number(appeals.rate, 4),
                    period["from"] or "", period["to"] or "",
                ]
            )  # fmt: skip
        return response
    audit_record(
        tenant=request.tenant,
        actor=request.user,
        action=AuditAction.REPORT_VIEW,
        target_type="agreement_report",
        detail=period,
        ip=client_ip(request),
    )
    return render(
        request,
        "review/decisions/agreement.html",
        {
            "tenant": request.tenant,
            "membership": request.membership,
            "report": report,
            "appeals": [
                {"row": row, "appeals": appeals}
                for row, appeals in _with_appeals(report, appeal_rates)
            ],
            "appeal_target_days": request.tenant.appeal_target_days,
            "team": selectors.team_exposure(tenant=request.tenant),
            "break_minutes": settings.ARTEMIS_BREAK_AFTER_MINUTES,
            "errors": [],
            "preset": preset,
            "presets": list(PRESETS),
            "from": request.GET.get("from", ""),
            "to": request.GET.get("to", ""),
            "query": request.GET.urlencode(),
        },
    )
