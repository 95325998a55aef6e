"""A second reviewer works a blind second review in a real browser with the keyboard:
open the list, take the review, move through highlights, choose a verdict and reason, record
it. The first verdict never appears on the page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Role, SecondReview, Tenant
from tests.browser.test_moderator_flow import page  # noqa: F401 (the Chromium fixture)
from tests.review.supervision_support import decide, member, sample_every_decision
from tests.review_support import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_second_reviewer_records_a_blind_verdict_with_the_keyboard(
    live_server: Any,
    page: Any,  # noqa: F811
    acme: Tenant,
) -> None:
    sample_every_decision(acme)
    alice = member(acme, "alice")
    member(acme, "bob", Role.MODERATOR)
    decision = decide(acme, alice, "suspend", "sextortion", notes="alice-private-note")

    page.goto(f"{live_server.url}/login")
    page.fill("#id_username", "bob")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    page.click("text=1 second review waiting for you")
    page.wait_for_url(f"{live_server.url}/t/acme/second-reviews")

    # The take button has `autofocus`, which the browser applies at its next rendering
    # update: that can come after the load event wait_for_url waits for, and an Enter sent
    # before it lands on the body and does nothing. A keyboard user presses Enter once the
    # button shows the focus; so does the test.
    expect(page.locator("#take-second-review")).to_be_focused()
    page.keyboard.press("Enter")
    review = SecondReview.objects.get(decision=decision)
    page.wait_for_url(f"{live_server.url}/t/acme/second-reviews/{review.pk}")
    body = page.inner_text("main")
    assert "Blind second review" in body
    assert "alice" not in body
    assert page.locator("mark.c-secrecy_request").count() == 1

    page.keyboard.press("j")
    page.keyboard.press("w")  # verdict: warn; focus moves to the reason
    page.keyboard.type("Grooming")
    page.keyboard.press("Tab")
    page.keyboard.type("would warn first")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/t/acme/second-reviews")

    review.refresh_from_db()
    assert (review.verdict, review.reason_code, review.agrees) == (
        "warn",
        "grooming_indicators",
        False,
    )
    assert "Supervisors see any difference" in page.inner_text("main")
