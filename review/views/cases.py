"""Escalation case pages: the list, the supervisors' escalations inbox, and the case page,
which is the editor while the case is its author's draft and the record of the case after.

Every action is a POST that calls one service and redirects back to the case (the page works
without JavaScript); the editor also answers htmx with just its own fragment. A case the
member may not see (another tenant's, or for a moderator someone else's) answers 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review import case_selectors
from review.capabilities import Capability
from review.case_forms import (
    CaseForm,
    DeliveryForm,
    ExtendForm,
    ReasonForm,
    case_form_field,
    format_offset,
)
from review.errors import add_to_form
from review.models import CASE_ANNOTATIONS, Case, CaseStatus, ReviewError
from review.services import case_flow
from review.services import cases as case_lifecycle
from review.views.base import ArtemisRequest, tenant_page


def _case(request: ArtemisRequest, case_id: int) -> Case:
    try:
        return case_selectors.case_get_visible(
            tenant=request.tenant, membership=request.membership, pk=case_id
        )
    except Case.DoesNotExist:
        raise Http404("no such case") from None


def _back(request: ArtemisRequest, case: Case) -> HttpResponse:
    return redirect("case", tenant_slug=request.tenant.slug, case_id=case.pk)


def _form_errors(form: forms.Form) -> str:
    """Each bad field by name, for a message: "delivered_on: Enter a valid date."."""
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


@tenant_page(Capability.READ_CASES)
@require_GET
def case_list(request: ArtemisRequest) -> HttpResponse:
    cases = case_selectors.case_list_visible(tenant=request.tenant, membership=request.membership)
    status = request.GET.get("status", "")
    if status in CaseStatus.values:
        cases = cases.filter(status=status)
    return render(
        request,
        "review/cases.html",
        {
            "tenant": request.tenant,
            "membership": request.membership,
            "cases": cases[:200],
            "statuses": CaseStatus.choices,
            "status": status,
        },
    )


@tenant_page(Capability.APPROVE_CASE)
@require_GET
def case_inbox(request: ArtemisRequest) -> HttpResponse:
    return render(
        request,
        "review/case_inbox.html",
        {
            "tenant": request.tenant,
            "membership": request.membership,
            "cases": case_selectors.case_inbox(tenant=request.tenant),
        },
    )


def _page_context(request: ArtemisRequest, case: Case, form: CaseForm | None) -> dict[str, object]:
    is_author = case.author_id == request.user.pk
    target = case.reporting_target
    editing = is_author and case.status == CaseStatus.DRAFT
    if editing and form is None:
        form = CaseForm(initial=CaseForm.initial_for(case))
    history = list(case_selectors.case_history(tenant=request.tenant, case=case))
    sent_back = next(
        (
            e
            for e in reversed(history)
            if e.action == "case_transition" and e.detail.get("to") == CaseStatus.DRAFT
        ),
        None,
    )
    return {
        "tenant": request.tenant,
        "membership": request.membership,
        "case": case,
        "form": form,
        "editing": editing,
        "is_author": is_author,
        "problems": case_flow.case_problems(case),
        "annotation_labels": [CASE_ANNOTATIONS.get(a, a) for a in case.annotations],
        "incident_offset": format_offset(case.incident_utc_offset_minutes),
        "history": history,
        "sent_back": sent_back if case.status == CaseStatus.DRAFT else None,
        # The target's own panel (NCMEC's submission, a referral's delivery) and its context.
        "target": target,
        **target.panel_context(request, case),
        "extend_form": ExtendForm(),
        "reason_form": ReasonForm(),
        # Offered only when case_close would accept it (the rule is case_close_refusal).
        "can_close": case_flow.case_close_refusal(
            case=case, actor=request.user, membership=request.membership
        )
        is None,
    }


@tenant_page(Capability.READ_CASES, post=Capability.WRITE_CASE)
@require_http_methods(["GET", "POST"])
def case_page(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    if request.method == "GET":
        case_flow.case_record_view(
            case=case, actor=request.user, ip=request.META.get("REMOTE_ADDR")
        )
        return render(request, "review/case.html", _page_context(request, case, None))

    form = CaseForm(request.POST)
    template = "review/case.html#case-editor" if request.htmx else "review/case.html"
    # htmx swaps only 2xx answers by default, so the fragment that names the bad fields
    # comes back as 200 to htmx and as 400 to a plain form post.
    refused = 200 if request.htmx else 400
    if not form.is_valid():
        return render(request, template, _page_context(request, case, form), status=refused)
    try:
        case = case_flow.case_update(case=case, actor=request.user, **form.case_fields())
    except ReviewError as exc:
        add_to_form(form, exc, field_of=case_form_field)
        return render(request, template, _page_context(request, case, form), status=refused)
    if request.htmx:
        context = _page_context(request, case, None)
        context["saved"] = True
        return render(request, template, context)
    messages.success(request, f"Case {case.reference} saved.")
    return _back(request, case)


@tenant_page(Capability.WRITE_CASE)
@require_POST
def case_submit(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    try:
        case_flow.case_submit(case=case, actor=request.user)
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Case {case.reference} is waiting for a supervisor.")
    return _back(request, case)


@tenant_page(Capability.APPROVE_CASE)
@require_POST
def case_approve(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    try:
        case_lifecycle.case_approve(case=case, supervisor=request.user)
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Case {case.reference} approved.")
    return _back(request, case)


@tenant_page(Capability.APPROVE_CASE)
@require_POST
def case_send_back(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    try:
        case_flow.case_send_back(
            case=case, supervisor=request.user, reason=request.POST.get("reason", "")
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Case {case.reference} sent back to its author.")
    return _back(request, case)


@tenant_page(Capability.SUBMIT_REPORT)
@require_POST
def case_deliver(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Delivery not recorded. {_form_errors(form)}")
        return _back(request, case)
    try:
        case = case_flow.case_record_delivery(
            case=case,
            supervisor=request.user,
            agency=form.cleaned_data["agency"],
            reference=form.cleaned_data["reference"],
            delivered_on=form.cleaned_data["delivered_on"],
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Delivery recorded; case {case.reference} is preserved until "
            f"{case.preserve_until:%Y-%m-%d}.",
        )
    return _back(request, case)


@tenant_page(Capability.SUBMIT_REPORT)
@require_POST
def case_extend(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Preservation not extended. {_form_errors(form)}")
        return _back(request, case)
    try:
        case = case_lifecycle.case_extend_preservation(
            case=case,
            supervisor=request.user,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Preserved until {case.preserve_until:%Y-%m-%d}.")
    return _back(request, case)


@tenant_page(Capability.WRITE_CASE)
@require_POST
def case_close(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    try:
        case_flow.case_close(case=case, actor=request.user, reason=request.POST.get("reason", ""))
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Case {case.reference} closed.")
    return _back(request, case)
