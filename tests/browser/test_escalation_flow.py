"""Four eyes in a real browser (headless Chromium, driven by Playwright): alice escalates a
flagged conversation, lands on the case editor, completes the case and submits it; sam the
supervisor finds it in his escalations inbox, reads it and approves it. Saves a screenshot of
the case page in artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from review.models import AuditAction, AuditEvent, Case, CaseStatus, Role, Tenant
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 - the fixture
from tests.factories import MembershipFactory
from tests.review_support import flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_escalates_and_completes_a_case_and_sam_approves_it(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")
    sam = MembershipFactory(tenant=acme, role=Role.SUPERVISOR, user__username="sam").user
    item = flagged_item(acme, 1, probability=0.95)
    base = live_server.url

    # Alice takes the item and escalates it to law enforcement.
    sign_in(page, base, "alice")
    page.click("#take-next")
    page.wait_for_url(f"{base}/t/acme/items/{item.pk}")
    page.check("input[name=verdict][value=escalate_law_enforcement]")
    page.select_option("#id_reason_code", "grooming_indicators")
    page.click("text=Decide and take next")
    page.wait_for_url(f"{base}/t/acme/cases/*")
    case = Case.objects.get(decision__queue_item=item)
    assert page.url.endswith(f"/t/acme/cases/{case.pk}"), "an escalation lands on the editor"
    assert page.locator("[data-problem=narrative]").is_visible()
    assert page.input_value("#id_reported_esp_identifier") == "adult-1", "prefilled"

    # She completes it; the editor saves in place (htmx) and the problem disappears.
    page.fill("#id_narrative", "The adult asks the child to keep the chat secret, then for a pic.")
    page.fill("#id_reported_screen_name", "jay_gamer")
    page.fill("#id_reported_ip_events", "203.0.113.7 2026-11-01T17:55:00+01:00 login")
    page.fill("#id_reported_country", "US")
    page.click("#case-save")
    page.wait_for_selector("text=Saved.")
    assert page.locator("[data-problem]").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "case-page.png"), full_page=True)
    page.click("#case-submit")
    page.wait_for_selector("text=is waiting for a supervisor")
    assert page.inner_text("#case-status") == "Awaiting approval"

    # Sam opens his inbox, reads the case and approves it.
    sign_in(page, base, "sam")
    assert page.inner_text("#nav-inbox") == "Escalations inbox 1"
    page.click("#nav-inbox")
    page.click(f"text={case.reference}")
    page.wait_for_url(f"{base}/t/acme/cases/{case.pk}")
    assert "keep the chat secret" in page.inner_text(".case-record")
    assert page.get_attribute("#transcript-link", "href") == f"/t/acme/items/{item.pk}"
    page.click("#case-approve")
    # Approving asks first; cancelling leaves the case as it was.
    assert f"Approve case {case.reference}?" in page.inner_text("#confirm")
    page.click("#confirm-cancel")
    page.wait_for_url(f"{base}/t/acme/cases/{case.pk}")
    assert page.inner_text("#case-status") == "Awaiting approval"
    page.click("#case-approve")
    page.focus("#confirm-button")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Case {case.reference} approved.")

    case.refresh_from_db()
    assert (case.status, case.approved_by) == (CaseStatus.APPROVED, sam)
    assert page.inner_text("#case-status") == "Approved"
    viewers = AuditEvent.objects.filter(action=AuditAction.CASE_VIEW, target_id=str(case.pk))
    assert {e.actor_label for e in viewers} == {"alice", "sam"}
