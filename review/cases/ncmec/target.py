"""NCMEC's CyberTipline as a reporting target: the first implementation of
``review.cases.targets.ReportingTarget``.

Artemis sends the report itself (``review.cases.ncmec.services``: submit, upload, fileinfo,
finish), keeps its state and NCMEC's answer in ``NcmecSubmission``, and the case page shows
``review/_ncmec_panel.html``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review.cases.targets import Preservation, Receipt, ReportingTarget, Step

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

    from review.models import Case


class NcmecTarget(ReportingTarget):
    name = "ncmec"
    label = "NCMEC CyberTipline report"
    submitted_label = "Submitted to NCMEC"
    preservation = Preservation(
        days=365,
        why=(
            "18 U.S.C. 2258A(h)(1): the contents of a CyberTipline report are preserved for "
            "one year after it is submitted"
        ),
    )
    steps = (
        Step("submit", "Open the report"),
        Step("upload", "Upload the transcript"),
        Step("fileinfo", "Describe the file"),
        Step("finish", "Finish the report"),
    )
    recorded_by_hand = False
    package_from_approval = False
    package_needs = "for an NCMEC case, once the CyberTipline report is submitted"
    panel_template = "review/cases/_ncmec_panel.html"

    def problems(self, case: Case) -> dict[str, str]:
        """The report must build and validate against NCMEC's schema before a supervisor
        sees the case. Settings (the reporter's address) are the operator's to fix and are
        shown on the NCMEC panel instead."""
        from review.cases.ncmec.report import ncmec_problems

        problems: dict[str, str] = {}
        for problem in ncmec_problems(case):
            if not problem.field.isupper():
                problems.setdefault(problem.field, str(problem))
        return problems

    def receipt(self, case: Case) -> Receipt | None:
        from review.models import NcmecState, NcmecSubmission

        submission = NcmecSubmission.objects.filter(case=case).first()
        if submission is None or submission.state != NcmecState.FINISHED:
            return None
        return Receipt(
            to=case.submitted_to,
            reference=submission.report_id,
            at=case.submitted_at,
            text=submission.receipt,
            files=tuple(submission.file_ids),
        )

    def retract(self, *, case: Case, actor: AbstractBaseUser) -> None:
        from review.cases.ncmec.services import ncmec_submission_retract

        ncmec_submission_retract(case=case, actor=actor)

    def panel_context(self, request: HttpRequest, case: Case) -> dict[str, Any]:
        from review.cases.views import ncmec_panel_context

        return ncmec_panel_context(request, case)  # type: ignore[arg-type]

    def package_fields(self, case: Case) -> dict[str, Any]:
        from review.cases.referral.evidence import utc_iso

        receipt = self.receipt(case)
        return {
            "ncmec_report_id": receipt.reference if receipt else "",
            "ncmec_file_ids": list(receipt.files) if receipt else [],
            "submitted_at_utc": utc_iso(case.submitted_at),
        }
