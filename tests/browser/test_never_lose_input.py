"""Never lose what a person typed, in a real browser (headless Chromium): alice types a
narrative and presses *Submit for approval* without *Save draft*, and a moderator whose
lease ran out while she wrote her notes finds them still in the form (issue 11, part 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from review.models import Case, CaseStatus, Decision, QueueItem, Role, Tenant
from review.queue.services import queue_item_claim_next
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import page  # noqa: F401 - the fixture
from tests.factories import MembershipFactory
from tests.review.cases.test_case_lifecycle import escalate
from tests.review_support import flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NARRATIVE = "The adult asks the child to keep the chat secret, then for a picture."


def test_submit_without_save_keeps_and_saves_the_narrative_and_no_stale_error_stays(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user
    case = escalate(acme, alice)
    base = live_server.url
    sign_in(page, base, "alice")
    page.goto(f"{base}/t/acme/cases/{case.pk}")

    # She writes the narrative, clears the incident time to check it later, and goes
    # straight for Submit: the case is not complete.
    page.fill("#id_narrative", NARRATIVE)
    page.fill("#id_incident_local", "")
    page.fill("#id_incident_offset", "")
    page.click("#case-submit")
    page.wait_for_selector("#submit-refused")
    assert "Draft saved, but not submitted" in page.inner_text("#submit-refused")
    assert page.input_value("#id_narrative") == NARRATIVE, "what she typed is still there"
    case.refresh_from_db()
    assert case.narrative == NARRATIVE, "and it was saved"
    assert case.status == CaseStatus.DRAFT

    assert page.locator("[data-problem=incident_at]").is_visible()

    # She gives the time and saves: "Saved." with no refusal left above or below it.
    page.fill("#id_incident_local", "2026-11-01T18:01:00")
    page.fill("#id_incident_offset", "+01:00")
    page.click("#case-save")
    # "Saved." already shows above the refusal (the draft was saved): wait for the swap.
    page.wait_for_selector("#submit-refused", state="detached")
    assert page.locator(".saved").inner_text() == "Saved."
    assert page.locator(".messages .error").count() == 0
    assert page.locator("[data-problem]").count() == 0

    page.click("#case-submit")
    page.wait_for_selector("text=is waiting for a supervisor")
    assert page.inner_text("#case-status") == "Awaiting approval"
    case.refresh_from_db()
    assert (case.status, case.narrative) == (CaseStatus.AWAITING_APPROVAL, NARRATIVE)


def test_a_decision_refused_because_the_lease_ran_out_keeps_the_verdict_reason_and_notes(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")
    bob = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="bob").user
    item = flagged_item(acme, 1)
    base = live_server.url
    sign_in(page, base, "alice")
    page.click("#take-next")
    page.wait_for_url(f"{base}/t/acme/items/{item.pk}")
    page.check("input[name=verdict][value=ban]")
    page.select_option("#id_reason_code", "grooming_indicators")
    page.fill("#id_notes", "Asks for secrecy twice, then for a picture.")

    # While she wrote, her lease ran out and bob took the item.
    QueueItem.objects.filter(pk=item.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert queue_item_claim_next(tenant=acme, moderator=bob) == item
    page.click("text=Decide and take next")
    page.wait_for_selector(".errorlist")

    assert "not leased to you" in page.inner_text(".decision")
    assert page.input_value("#id_notes") == "Asks for secrecy twice, then for a picture."
    assert page.input_value("#id_reason_code") == "grooming_indicators"
    assert page.is_checked("input[name=verdict][value=ban]")
    assert not Decision.objects.exists()
    assert not Case.objects.exists()
