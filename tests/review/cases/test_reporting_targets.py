"""Reporting targets: every registered target loads under its own name, the case asks its
target what differs (what blocks it, its preservation rule, its words for "submitted", its
panel), and a new target (Cybertip.ca, here) needs no change to the case code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.http import HttpRequest
from django.utils import timezone

from review.cases.editor import case_problems
from review.cases.flow import case_record_delivery, case_update
from review.cases.forms import DeliveryForm
from review.cases.models import in_sentence, status_label
from review.cases.services import case_approve, case_transition
from review.cases.targets import (
    REGISTRY,
    Preservation,
    ReportingTarget,
    Step,
    target_get,
    targets_check,
)
from review.models import AuditAction, AuditEvent, Case, CaseStatus, ReviewError, Tenant
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.cases.test_cases import complete
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


class CybertipCaTarget(ReportingTarget):
    """Canada's hotline as a third target, handed over by hand like a referral."""

    name = "cybertip_ca"
    label = "Cybertip.ca report"
    submitted_label = "Submitted to Cybertip.ca"
    preservation = Preservation(days=730, why="kept two years, as the hotline asks")
    steps = (Step("deliver", "Send it through Cybertip.ca's form and record it"),)
    recorded_by_hand = True
    package_from_approval = True
    package_needs = "once a supervisor has approved the case"
    panel_template = "review/cases/_delivery_panel.html"

    def problems(self, case: Case) -> dict[str, str]:
        if case.urgency_reason:
            return {}
        return {"urgency_reason": "Cybertip.ca asks whether the child is in danger now."}

    def panel_context(self, request: HttpRequest, case: Case) -> dict[str, Any]:
        return {"delivery_form": DeliveryForm()}


@pytest.fixture
def cybertip_ca(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(REGISTRY, "cybertip_ca", f"{__name__}.CybertipCaTarget")
    target_get.cache_clear()
    yield
    target_get.cache_clear()


def test_every_registered_target_loads_under_its_own_name() -> None:
    targets_check()

    assert {name: target_get(name).name for name in REGISTRY} == {
        "ncmec": "ncmec",
        "law_enforcement": "law_enforcement",
    }


def test_an_unknown_target_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown reporting target 'nowhere'; known: ncmec, law_"):
        target_get("nowhere")


def test_a_target_registered_under_another_name_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(REGISTRY, "hotline", REGISTRY["ncmec"])
    target_get.cache_clear()
    try:
        with pytest.raises(TypeError, match="is not the ReportingTarget named 'hotline'"):
            targets_check()
    finally:
        target_get.cache_clear()


def test_ncmec_and_a_referral_are_each_preserved_a_year_for_a_reason() -> None:
    for name in ("ncmec", "law_enforcement"):
        rule = target_get(name).preservation
        assert rule.until(date(2026, 11, 25)) == date(2027, 11, 25), name
        assert "2258A(h)" in rule.why, name


def test_a_referral_cannot_be_retracted_from_artemis(acme: Tenant, alice: Any, sam: Any) -> None:
    case = escalate(acme, alice, "escalate_law_enforcement")

    with pytest.raises(ReviewError, match="cannot be retracted"):
        case.reporting_target.retract(case=case, actor=sam)


def test_the_status_submitted_is_said_in_the_targets_words_and_old_values_stay_readable() -> None:
    assert status_label("submitted", target="ncmec") == "Submitted to NCMEC"
    assert status_label("submitted", target="law_enforcement") == "Delivered to law enforcement"
    assert status_label("submitted") == "Submitted"
    # Audit events written before targets name a referral's delivery "delivered".
    assert status_label("delivered") == "Delivered to law enforcement"
    assert status_label("preserved", target="ncmec") == "Preserved"


def test_a_new_target_is_blocked_preserved_and_shown_by_its_own_rules(
    acme: Tenant, alice: Any, sam: Any, cybertip_ca: None
) -> None:
    case = escalate(acme, alice, "escalate_law_enforcement")
    Case.objects.filter(pk=case.pk).update(target="cybertip_ca")
    case = complete(Case.objects.get(pk=case.pk), alice)

    assert case_problems(case) == {
        "urgency_reason": "Cybertip.ca asks whether the child is in danger now."
    }
    case = case_update(case=case, actor=alice, urgency_reason="They plan to meet on Saturday.")
    assert case_problems(case) == {}
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=alice)
    case = case_approve(case=case, supervisor=sam)
    delivered_on = timezone.localdate()
    before = timezone.now()
    case = case_record_delivery(
        case=case,
        supervisor=sam,
        agency="Cybertip.ca",
        reference="CTC-77",
        delivered_on=delivered_on,
    )

    assert case.status == CaseStatus.PRESERVED
    assert case.preserve_until == delivered_on + timedelta(days=730)
    assert case.delivered_on == delivered_on
    assert case.submitted_at is not None
    assert before <= case.submitted_at <= timezone.now()  # when it was recorded
    assert (case.submitted_to, case.submission_reference) == ("Cybertip.ca", "CTC-77")
    assert AuditEvent.objects.filter(
        action=AuditAction.CASE_TRANSITION, target_id=str(case.pk), detail__to="submitted"
    ).exists()
    page = signed_in(sam).get(f"/t/acme/cases/{case.pk}").content.decode()
    assert "Cybertip.ca report" in page
    assert "kept two years, as the hotline asks" in page
    assert (
        f"Delivered to Cybertip.ca (their reference CTC-77) on {delivered_on:%Y-%m-%d} "
        f'<span class="muted">(recorded {case.submitted_at:%Y-%m-%d %H:%M} UTC)</span>'
    ) in page
    assert "approved → submitted to Cybertip.ca" in page


@pytest.mark.parametrize(
    ("label", "inside"),
    [
        ("Awaiting approval", "awaiting approval"),
        ("Submitted to NCMEC", "submitted to NCMEC"),
        ("NCMEC CyberTipline report", "NCMEC CyberTipline report"),
        ("Law-enforcement referral", "law-enforcement referral"),
        ("Delivered to law enforcement", "delivered to law enforcement"),
        ("", ""),
    ],
)
def test_a_label_inside_a_sentence_keeps_its_acronyms_and_names(label: str, inside: str) -> None:
    assert in_sentence(label) == inside
