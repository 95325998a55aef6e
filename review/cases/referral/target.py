"""A referral to a law-enforcement agency as a reporting target: the second implementation of
``review.cases.targets.ReportingTarget``.

Artemis does not send it: a supervisor downloads the referral package (``review.cases.referral``),
hands it to the agency, and records the delivery on the case page
(``review.cases.flow.case_record_delivery``); the agency and its reference are the
receipt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review.cases.targets import Preservation, ReportingTarget, Step

if TYPE_CHECKING:
    from django.http import HttpRequest

    from review.models import Case


class LawEnforcementTarget(ReportingTarget):
    name = "law_enforcement"
    label = "Law-enforcement referral"
    submitted_label = "Delivered to law enforcement"
    preservation = Preservation(
        days=365,
        why=(
            "kept one year from the delivery, as a CyberTipline report is under "
            "18 U.S.C. 2258A(h), so the agency can ask for more by legal process"
        ),
    )
    steps = (
        Step("package", "Download the referral package"),
        Step("deliver", "Hand it to the agency and record the delivery"),
    )
    recorded_by_hand = True
    package_from_approval = True
    package_needs = "once a supervisor has approved the case"
    panel_template = "review/cases/_delivery_panel.html"

    def problems(self, case: Case) -> dict[str, str]:
        return {}  # the package holds whatever the case holds

    def panel_context(self, request: HttpRequest, case: Case) -> dict[str, Any]:
        from review.cases.forms import DeliveryForm

        return {"delivery_form": DeliveryForm()}

    def package_fields(self, case: Case) -> dict[str, Any]:
        from review.cases.referral.evidence import utc_iso

        return {
            "delivered_on": case.delivered_on.isoformat() if case.delivered_on else "",
            "delivery_recorded_at_utc": utc_iso(case.submitted_at),
        }
