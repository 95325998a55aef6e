"""The NCMEC panel of a case: its submission's status, and the Submit button for
supervisors and admins. The case page includes ``review/_ncmec_panel.html`` with
``ncmec_panel_context`` (NCMEC's reporting target asks for it); this module also serves the
panel on its own page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from review import case_selectors
from review.capabilities import Capability, member_can
from review.models import Case, CaseStatus, NcmecState, ReviewError
from review.ncmec.report import ncmec_problems
from review.ncmec.selectors import ncmec_submission_get
from review.ncmec.services import ncmec_submission_request
from review.views.base import ArtemisRequest, tenant_page


def _case(request: ArtemisRequest, case_id: int) -> Case:
    # As on the case page: a moderator sees only the cases she wrote.
    try:
        return case_selectors.case_get_visible(
            tenant=request.tenant, membership=request.membership, pk=case_id
        )
    except Case.DoesNotExist:
        raise Http404("no such case") from None


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
        "ncmec_panel_url": reverse("case_ncmec", args=[request.tenant.slug, case.pk]),
    }


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
        response = render(request, "review/_ncmec_panel.html", context)
        if request.GET.get("poll") and not context["ncmec_busy"]:
            # The worker is done: the case's status, preservation date, actions and history
            # changed too, so the whole page reloads instead of only this panel.
            response["HX-Refresh"] = "true"
        return response
    return render(request, "review/ncmec.html", context)
