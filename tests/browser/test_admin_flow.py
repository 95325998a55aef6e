"""An admin tunes the threshold in a real browser (headless Chromium, Playwright): tries a
candidate on the tuning page (htmx swaps the figures), applies it with a reason, sees the
queue grow, rolls the policy back on the policy page and sees the queue shrink again.
Saves a screenshot of the tuning page in artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from review.models import PolicyVersion, Role, Tenant
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 (fixture)
from tests.factories import MembershipFactory
from tests.review.test_policy import scored_conversation
from tests.review_support import PASSWORD, flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_lowers_the_threshold_sees_the_queue_change_and_rolls_it_back(
    live_server: Any,
    page: Any,  # noqa: F811
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada")
    flagged_item(acme, 1, probability=0.95)
    flagged_item(acme, 2, probability=0.7)
    below = scored_conversation(acme, 3, probability=0.45)

    page.goto(f"{live_server.url}/login")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    assert "2 open items" in page.inner_text("main")

    page.click("text=Admin")
    page.click("text=Threshold tuning")
    page.wait_for_url(f"{live_server.url}/t/acme/admin/tuning")
    assert "recall below the current threshold is unknown" in page.inner_text("main")
    page.fill("#candidate", "0.4")  # htmx swaps the figures as the admin types
    page.wait_for_selector("#apply-threshold")
    assert "0.40" in page.inner_text("#figures-candidate")
    assert page.locator("svg#histogram title").first.text_content().startswith("Score distribution")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tuning-page.png"), full_page=True)
    page.fill("#apply-reason", "catch more early conversations")
    page.click("#apply-threshold")
    page.wait_for_selector("text=Flag threshold is now 0.4")

    page.click("text=Queue")
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    assert "3 open items" in page.inner_text("main")
    assert below.external_id in page.inner_text("table.queue")

    page.click("text=Admin")
    page.click("text=Policy")
    page.fill("#rollback-reason-1", "too many items for the team")
    page.click("text=Roll back to #1")
    page.wait_for_selector("text=Rolled back to version 1")
    page.screenshot(path=str(ARTIFACTS / "policy-page.png"), full_page=True)
    assert PolicyVersion.objects.get(tenant=acme, number=3).restores.number == 1

    page.click("text=Queue")
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    assert "2 open items" in page.inner_text("main")
    assert below.external_id not in page.inner_text("table.queue")
