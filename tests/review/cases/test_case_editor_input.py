"""Never lose what a person typed on a case page: *Submit for approval* saves the editor's
fields first and then checks them, and every refusal on the case page comes back with the
values still in their boxes (issue 11, part 2)."""

from __future__ import annotations

from typing import Any

import pytest

from review.models import Case, CaseStatus, Tenant
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.cases.test_cases import approved_referral, editor_post
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db

NARRATIVE = "The adult asks the child to keep the chat secret."


def test_submitting_an_unsaved_narrative_saves_it_and_says_what_is_still_missing(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)
    typed = editor_post(narrative=NARRATIVE, incident_local="", incident_offset="")

    response = signed_in(alice).post(
        f"/t/acme/cases/{case.pk}/submit", {**typed, "with_draft": "1"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert f"{NARRATIVE}</textarea>" in html, "the narrative is still in its box"
    assert "Draft saved, but not submitted" in html
    assert 'data-problem="incident_at"' in html
    case.refresh_from_db()
    assert (case.narrative, case.status) == (NARRATIVE, CaseStatus.DRAFT)


def test_submitting_a_complete_editor_without_saving_first_submits_it(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)

    response = signed_in(alice).post(
        f"/t/acme/cases/{case.pk}/submit", {**editor_post(), "with_draft": "1"}
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_APPROVAL
    assert case.narrative == "The adult asks for secrecy, then for a picture."


def test_a_bad_field_on_submit_saves_nothing_and_keeps_every_value(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)
    typed = editor_post(narrative=NARRATIVE, incident_offset="one hour ahead")

    response = signed_in(alice).post(
        f"/t/acme/cases/{case.pk}/submit", {**typed, "with_draft": "1"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200, "htmx swaps the editor with its errors"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="case-editor"')
    assert "Not saved and not submitted" in html
    assert 'value="one hour ahead"' in html
    assert f"{NARRATIVE}</textarea>" in html
    case.refresh_from_db()
    assert (case.narrative, case.status) == ("", CaseStatus.DRAFT)


def test_a_submit_without_the_editor_fields_changes_nothing_it_did_not_get(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)
    Case.objects.filter(pk=case.pk).update(narrative=NARRATIVE)

    signed_in(alice).post(f"/t/acme/cases/{case.pk}/submit")

    case.refresh_from_db()
    assert case.narrative == NARRATIVE, "no editor fields, no save"


def test_a_delivery_with_a_bad_date_keeps_the_agency_and_reference_sam_typed(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = approved_referral(acme, alice, sam)
    client = signed_in(sam)

    response = client.post(
        f"/t/acme/cases/{case.pk}/deliver",
        {"agency": "Metro Police", "reference": "MP-2026-0042", "delivered_on": "not a date"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Delivery not recorded" in html
    assert 'value="Metro Police"' in html
    assert 'value="MP-2026-0042"' in html
