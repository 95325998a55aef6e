"""Case pages: the list, the supervisors' escalations inbox, the case editor and its steps,
the NCMEC report page and the referral package download.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review.cases import editor, flow, selectors, services
from review.cases.forms import (
    CaseForm,
    DeliveryForm,
    ExtendForm,
    ReasonForm,
    case_form_field,
    case_form_fields,
    format_offset,
)
from review.cases.labels import case_field_label, said
from review.cases.models import in_sentence
from review.cases.ncmec.report import ncmec_problems
from review.cases.ncmec.selectors import ncmec_submission_get
from review.cases.ncmec.services import ncmec_submission_check, ncmec_submission_request
from review.cases.referral.package import package_filename
from review.cases.referral.services import referral_package_download
from review.confirmation import confirm_page, confirmed
from review.errors import add_to_form
from review.models import CASE_ANNOTATIONS, AuditEvent, Case, CaseStatus, NcmecState, ReviewError
from review.signin.client_ip import client_ip
from review.tenancy.access import ArtemisRequest, found_or_404, tenant_page
from review.tenancy.capabilities import Capability, member_can
from review.transcript import flagged_rows

UNSAVED = "Not saved and not submitted: correct the fields marked."


def _case(request: ArtemisRequest, case_id: int) -> Case:
    """The case, if this member may see it (a moderator sees only the cases she wrote)."""
    return found_or_404(
        lambda: selectors.case_get_visible(
            tenant=request.tenant, membership=request.membership, pk=case_id
        ),
        "case",
    )


def _back(request: ArtemisRequest, case: Case) -> HttpResponse:
    return redirect("cases:case", tenant_slug=request.tenant.slug, case_id=case.pk)


def _ask(
    request: ArtemisRequest,
    case: Case,
    *,
    title: str,
    consequence: str,
    button: str,
    facts: Iterable[tuple[str, str]] = (),
    carry: Iterable[tuple[str, str]] = (),
) -> HttpResponse:
    """The page that asks before a case action that cannot be undone (approving, reporting
    to NCMEC, recording a delivery, closing): it names the case, and its button posts what
    was typed again with ``confirm``. Nothing is done, and nothing audited, until then."""
    return confirm_page(
        request,
        heading=f"Case {case.reference}",
        title=title,
        consequence=consequence,
        button=button,
        back_url=reverse("cases:case", args=[request.tenant.slug, case.pk]),
        facts=[
            ("Case", f"{case.reference}: {case.target_label}, {in_sentence(case.status_label)}"),
            ("Written by", str(case.author)),
            *facts,
        ],
        carry=carry,
        cancel="Cancel, go back to the case",
    )


def _labels(form: forms.Form) -> dict[str, str]:
    """The form's fields by name, in its own words."""
    return {name: str(form[name].label) for name in form.fields}


def _form_errors(form: forms.Form) -> str:
    """Each bad field by its label, for a message: "Delivered on: Enter a valid date."."""
    labels = _labels(form)
    return "; ".join(
        " ".join(errors)
        if name == NON_FIELD_ERRORS
        else f"{labels.get(name) or case_field_label(name)}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )


def _current_problems(problems: dict[str, str], form: CaseForm | None) -> dict[str, str]:
    """The case's problems that still describe what the editor shows. The problems are the
    stored case's; after a refused save the boxes hold what was typed, so a problem whose
    box has an error of its own or holds another value is left out (an error about a
    typed age of -3 is not followed by one about the stored age of 44)."""
    if form is None or not form.is_bound or not form.errors:
        return problems
    stale = set(form.errors) | set(form.changed_data)
    return {
        name: message for name, message in problems.items() if not stale & case_form_fields(name)
    }


@tenant_page(Capability.READ_CASES)
@require_GET
def case_list(request: ArtemisRequest) -> HttpResponse:
    cases = selectors.case_list_visible(tenant=request.tenant, membership=request.membership)
    status = request.GET.get("status", "")
    if status in CaseStatus.values:
        cases = cases.filter(status=status)
    return render(
        request,
        "review/cases/cases.html",
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
        "review/cases/case_inbox.html",
        {
            "tenant": request.tenant,
            "membership": request.membership,
            "cases": selectors.case_inbox(tenant=request.tenant),
        },
    )


def _page_context(request: ArtemisRequest, case: Case, form: CaseForm | None) -> dict[str, object]:
    is_author = case.author_id == request.user.pk
    target = case.reporting_target
    editing = is_author and case.status == CaseStatus.DRAFT
    if editing and form is None:
        form = CaseForm(initial=CaseForm.initial_for(case))
    problems = _current_problems(editor.case_problems(case), form)
    history = list(selectors.case_history(tenant=request.tenant, case=case))
    for event in history:
        # Edits are audited by the fields' keys; the page names them in words.
        fields = event.detail.get("fields") if isinstance(event.detail, dict) else None
        if isinstance(fields, list):
            event.field_labels = [case_field_label(str(name)) for name in fields]

    def last_move_to(status: str) -> AuditEvent | None:
        return next(
            (
                e
                for e in reversed(history)
                if e.action == "case_transition" and e.detail.get("to") == status
            ),
            None,
        )

    sent_back = last_move_to(CaseStatus.DRAFT)
    return {
        "tenant": request.tenant,
        "membership": request.membership,
        "case": case,
        "form": form,
        "editing": editing,
        "is_author": is_author,
        "problems": problems,
        "problem_labels": [case_field_label(name) for name in problems],
        "annotation_labels": [CASE_ANNOTATIONS.get(a, a) for a in case.annotations],
        "incident_offset": format_offset(case.incident_utc_offset_minutes),
        "history": history,
        # Who closed it and why, as the audit trail has it (the history says it too).
        "closed": last_move_to(CaseStatus.CLOSED) if case.closed_at else None,
        # The flagged messages as the escalating moderator saw them; a hidden one is revealed
        # on the review page's terms (audited), and stays revealed in this session.
        "evidence": flagged_rows(
            tenant=request.tenant,
            conversation=case.conversation,
            as_of=case.decision.created_at,
            revealed=set(request.session.get(f"revealed-{case.decision.queue_item_id}", [])),
        ),
        "sent_back": sent_back if case.status == CaseStatus.DRAFT else None,
        # The target's own panel (NCMEC's submission, a referral's delivery) and its context.
        "target": target,
        **target.panel_context(request, case),
        "extend_form": ExtendForm(),
        "reason_form": ReasonForm(),
        # Offered only when case_close would accept it (the rule is case_close_refusal).
        "can_close": flow.case_close_refusal(
            case=case, actor=request.user, membership=request.membership
        )
        is None,
    }


def _refused(
    request: ArtemisRequest, case: Case, notice: str, *, status: int = 400, **typed: Any
) -> HttpResponse:
    """The case page again, with the refusal on top and what was typed still in its form
    (``typed``: a bound ``delivery_form`` or ``extend_form``, or ``send_back_reason`` /
    ``close_reason`` for the reason boxes), instead of a redirect that empties them."""
    messages.error(request, notice)
    context = _page_context(request, case, None)
    context.update(typed)
    return _render(request, case, context, status=status)


def _render(
    request: ArtemisRequest,
    case: Case,
    context: dict[str, object],
    *,
    status: int = 200,
    fragment: bool = False,
) -> HttpResponse:
    """The case page, or with ``fragment`` only its editor (what an htmx save swaps in: the
    author's own fields). The whole page holds the child's details and the flagged messages,
    so each drawing of it is recorded, a refusal drawn again included."""
    if fragment:
        return render(request, "review/cases/case.html#case-editor", context, status=status)
    flow.case_record_view(case=case, actor=request.user, ip=client_ip(request))
    return render(request, "review/cases/case.html", context, status=status)


@tenant_page(Capability.READ_CASES, post=Capability.WRITE_CASE)
@require_http_methods(["GET", "POST"])
def case_page(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    if request.method == "GET":
        return _render(request, case, _page_context(request, case, None))

    form = CaseForm(request.POST, initial=CaseForm.initial_for(case))
    fragment = bool(request.htmx)
    # htmx swaps only 2xx answers by default, so the fragment that names the bad fields
    # comes back as 200 to htmx and as 400 to a plain form post.
    refused = 200 if fragment else 400
    if not form.is_valid():
        context = _page_context(request, case, form)
        return _render(request, case, context, status=refused, fragment=fragment)
    try:
        case = flow.case_update(case=case, actor=request.user, **form.case_fields())
    except ReviewError as exc:
        add_to_form(form, exc, field_of=case_form_field)
        context = _page_context(request, case, form)
        return _render(request, case, context, status=refused, fragment=fragment)
    if fragment:
        context = _page_context(request, case, None)
        context["saved"] = True
        return _render(request, case, context, fragment=True)
    messages.success(request, f"Case {case.reference} saved.")
    return _back(request, case)


@tenant_page(Capability.WRITE_CASE)
@require_POST
def case_submit(request: ArtemisRequest, case_id: int) -> HttpResponse:
    """Submit for approval. From the editor (its fields come along, marked ``with_draft``)
    the draft is saved first, then checked: what was typed is kept whether or not the case
    is complete, and a refusal comes back on the editor beside the values, not as a message
    above an emptied form."""
    case = _case(request, case_id)
    form = (
        CaseForm(request.POST, initial=CaseForm.initial_for(case))
        if request.POST.get("with_draft")
        else None
    )
    fragment = bool(request.htmx)
    refused = 200 if fragment else 400

    def not_submitted(notice: str, *, saved: bool) -> HttpResponse:
        context = _page_context(request, case, form)
        context["saved"], context["submit_refused"] = saved, notice
        return _render(request, case, context, status=refused, fragment=fragment)

    if form is not None:
        if not form.is_valid():
            return not_submitted(UNSAVED, saved=False)
        try:
            case = flow.case_update(case=case, actor=request.user, **form.case_fields())
        except ReviewError as exc:
            add_to_form(form, exc, field_of=case_form_field)
            return not_submitted(UNSAVED, saved=False)
    try:
        flow.case_submit(case=case, actor=request.user)
    except ReviewError as exc:
        if form is None:
            messages.error(request, said(exc))
            return _back(request, case)
        return not_submitted(f"Draft saved, but not submitted: {exc.message}", saved=True)
    messages.success(request, f"Case {case.reference} is waiting for a supervisor.")
    if request.htmx:
        # The whole page changes (status, actions, history): load it anew.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("cases:case", args=[request.tenant.slug, case.pk])
        return response
    return _back(request, case)


@tenant_page(Capability.APPROVE_CASE)
@require_POST
def case_approve(request: ArtemisRequest, case_id: int) -> HttpResponse:
    """Approve, after a page that names the case: a POST without ``confirm`` only asks."""
    case = _case(request, case_id)
    try:
        services.case_approve_check(case=case, supervisor=request.user)
        if not confirmed(request):
            target = case.reporting_target
            after = (
                "its referral package can be downloaded and its delivery recorded"
                if target.recorded_by_hand
                else f"a supervisor can send its {target.label}"
            )
            return _ask(
                request,
                case,
                title=f"Approve case {case.reference}?",
                consequence=(
                    f"Case {case.reference} becomes approved: {case.author} can no longer "
                    f"edit it, it can no longer be sent back, and {after}. An approval "
                    "cannot be undone."
                ),
                button=f"Approve case {case.reference}",
            )
        services.case_approve(case=case, supervisor=request.user)
    except ReviewError as exc:
        messages.error(request, said(exc))
    else:
        messages.success(request, f"Case {case.reference} approved.")
    return _back(request, case)


@tenant_page(Capability.APPROVE_CASE)
@require_POST
def case_send_back(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    reason = request.POST.get("reason", "")
    try:
        flow.case_send_back(case=case, supervisor=request.user, reason=reason)
    except ReviewError as exc:
        return _refused(request, case, said(exc), status=exc.http_status, send_back_reason=reason)
    messages.success(request, f"Case {case.reference} sent back to its author.")
    return _back(request, case)


@tenant_page(Capability.SUBMIT_REPORT)
@require_POST
def case_deliver(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, case, f"Delivery not recorded. {_form_errors(form)}", delivery_form=form
        )
    try:
        agency, reference, delivered_on = flow.case_delivery_check(
            case=case,
            supervisor=request.user,
            agency=form.cleaned_data["agency"],
            reference=form.cleaned_data["reference"],
            delivered_on=form.cleaned_data["delivered_on"],
        )
        if not confirmed(request):
            preservation = case.reporting_target.preservation
            until = preservation.until(delivered_on)
            return _ask(
                request,
                case,
                title=f"Record that case {case.reference} was delivered to {agency}?",
                consequence=(
                    f"Case {case.reference} is recorded as submitted to {agency}, and its "
                    f"conversation and account data are preserved until {until:%Y-%m-%d} "
                    f"({preservation.why}). A recorded delivery cannot be undone or changed."
                ),
                button="Record delivery and start preservation",
                facts=[
                    ("Delivered to", agency),
                    ("Their reference", reference),
                    ("Delivered on", f"{delivered_on:%Y-%m-%d}"),
                    ("Preserved until", f"{until:%Y-%m-%d}"),
                ],
                carry=[
                    ("agency", agency),
                    ("reference", reference),
                    ("delivered_on", delivered_on.isoformat()),
                ],
            )
        case = flow.case_record_delivery(
            case=case,
            supervisor=request.user,
            agency=agency,
            reference=reference,
            delivered_on=delivered_on,
        )
    except ReviewError as exc:
        add_to_form(form, exc)
        return _refused(
            request,
            case,
            f"Delivery not recorded: {said(exc, labels=_labels(form))}",
            status=exc.http_status,
            delivery_form=form,
        )
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
        return _refused(
            request, case, f"Preservation not extended. {_form_errors(form)}", extend_form=form
        )
    try:
        case = services.case_extend_preservation(
            case=case,
            supervisor=request.user,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
        )
    except ReviewError as exc:
        add_to_form(form, exc)
        return _refused(
            request,
            case,
            f"Preservation not extended: {said(exc, labels=_labels(form))}",
            status=exc.http_status,
            extend_form=form,
        )
    messages.success(request, f"Preserved until {case.preserve_until:%Y-%m-%d}.")
    return _back(request, case)


@tenant_page(Capability.WRITE_CASE)
@require_POST
def case_close(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    reason = request.POST.get("reason", "")
    try:
        kept = flow.case_close_check(case=case, actor=request.user, reason=reason)
        if not confirmed(request):
            return _ask(
                request,
                case,
                title=f"Close case {case.reference}?",
                consequence=(
                    f"Case {case.reference} is closed with this reason. A closed case cannot "
                    "be reopened: nothing more is done with it, and it no longer holds its "
                    "conversation back from the retention policy's deletion."
                ),
                button=f"Close case {case.reference}",
                facts=[("Reason", kept)],
                carry=[("reason", reason)],
            )
        flow.case_close(case=case, actor=request.user, reason=reason)
    except ReviewError as exc:
        return _refused(request, case, said(exc), status=exc.http_status, close_reason=reason)
    messages.success(request, f"Case {case.reference} closed.")
    return _back(request, case)


def _may_submit(request: ArtemisRequest) -> bool:
    return member_can(request.membership, Capability.SUBMIT_REPORT)


def ncmec_panel_context(request: ArtemisRequest, case: Case) -> dict[str, Any]:
    """What ``_ncmec_panel.html`` needs; the case page merges it into its own context."""
    submission = ncmec_submission_get(tenant=request.tenant, case=case)
    finished = submission is not None and submission.state == NcmecState.FINISHED
    approved = case.status == CaseStatus.APPROVED
    busy = submission is not None and submission.state in (NcmecState.QUEUED, NcmecState.RUNNING)
    return {
        "case": case,
        "ncmec": submission,
        "ncmec_applies": case.target == "ncmec",
        "ncmec_busy": busy,
        # Only worth computing while the report can still be sent.
        "ncmec_problems": ncmec_problems(case) if approved and not finished else [],
        "ncmec_can_submit": approved and not finished and not busy and _may_submit(request),
        "ncmec_panel_url": reverse("cases:case_ncmec", args=[request.tenant.slug, case.pk]),
    }


def _ask_ncmec(request: ArtemisRequest, case: Case) -> HttpResponse:
    """The page that asks before a report goes to NCMEC, naming the report and where it
    goes. The panel's button is a plain form, so this is a whole page; an htmx request from
    an older panel gets the same page in place of the body."""
    submission = ncmec_submission_get(tenant=request.tenant, case=case)
    report = (
        f"open report {submission.report_id}, resumed where it stopped ({submission.next_step})"
        if submission is not None and submission.report_id
        else "a new CyberTipline report"
    )
    where = urlsplit(settings.NCMEC_URL).hostname or settings.NCMEC_URL
    preservation = case.reporting_target.preservation
    response = _ask(
        request,
        case,
        title=f"Send case {case.reference} to NCMEC?",
        consequence=(
            f"Artemis sends case {case.reference} to the CyberTipline of NCMEC (the National "
            "Center for Missing & Exploited Children, the clearinghouse US law names for "
            "these reports, which makes them available to law enforcement): the reported "
            "user's details, the child's, the "
            "narrative and the conversation's transcript. This cannot be undone: once NCMEC "
            "has the report, Artemis cannot withdraw it, and the case is preserved for "
            f"{preservation.days} days."
        ),
        button=f"Send case {case.reference} to NCMEC",
        facts=[("Report", report), ("Sent to", f"NCMEC's CyberTipline at {where}")],
        carry=[("next", request.POST.get("next", ""))],
    )
    if request.htmx:
        response["HX-Retarget"] = "body"
        response["HX-Reswap"] = "innerHTML"
    return response


@tenant_page(Capability.READ_CASES)
@require_http_methods(["GET", "POST"])
def case_ncmec(request: ArtemisRequest, case_id: int) -> HttpResponse:
    """GET: the panel (alone under htmx, else on its own page). POST (who may submit a
    report): queue the report; the worker sends it after this request commits."""
    case = _case(request, case_id)
    notice = ""
    if request.method == "POST":
        # Checked after the case is found, so another moderator's case stays a 404.
        if not _may_submit(request):
            raise PermissionDenied("this needs the capability 'submit_report'")
        try:
            ncmec_submission_check(case=case, actor=request.user)
            if not confirmed(request):
                return _ask_ncmec(request, case)
            ncmec_submission_request(case=case, actor=request.user)
        except ReviewError as exc:
            level, notice = messages.ERROR, str(exc)
        else:
            level, notice = messages.SUCCESS, f"Case {case.reference} is queued for NCMEC."
        if not request.htmx:
            messages.add_message(request, level, notice)
            back = request.POST.get("next", "")
            safe = url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure())
            return redirect(back if back and safe else request.path)
        case = _case(request, case_id)
    context: dict[str, Any] = {
        "tenant": request.tenant,
        "membership": request.membership,
        "ncmec_notice": notice,
    }
    context.update(ncmec_panel_context(request, case))
    if request.htmx:
        response = render(request, "review/cases/_ncmec_panel.html", context)
        if request.GET.get("poll") and not context["ncmec_busy"]:
            # The worker is done: the case's status, preservation date, actions and history
            # changed too, so the whole page reloads instead of only this panel.
            response["HX-Refresh"] = "true"
        return response
    return render(request, "review/cases/ncmec.html", context)


@tenant_page(Capability.DOWNLOAD_PACKAGE)
@require_GET
def case_package(request: ArtemisRequest, case_id: int) -> HttpResponse:
    case = found_or_404(lambda: selectors.case_get(tenant=request.tenant, pk=case_id), "case")
    try:
        data, sha256 = referral_package_download(
            case=case, actor=request.user, ip=client_ip(request)
        )
    except ReviewError as exc:
        return HttpResponse(
            str(exc), status=exc.http_status, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{package_filename(case, sha256)}"'
    response["Content-Length"] = str(len(data))
    # Evidence: no shared cache or browser cache may keep a copy.
    response["Cache-Control"] = "no-store, private"
    response["X-Package-SHA256"] = sha256
    return response
