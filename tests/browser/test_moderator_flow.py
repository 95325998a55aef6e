"""A moderator works the queue in a real browser (headless Chromium, driven by Playwright),
with the keyboard: sign in, take the next item, see the highlights, reveal a hidden message,
decide, and see the queue shrink. Saves a screenshot of the review page in artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from review.models import AuditEvent, Decision, Role, Tenant
from tests.conftest import skip_or_fail
from tests.factories import MembershipFactory
from tests.review_support import PASSWORD, flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are
    # plain synchronous set-up and checks, so Django's async guard is lifted for this test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        skip_or_fail("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()
        # While Playwright's loop runs, the test's ORM calls get a database connection of
        # their own (Django keeps connections per context), which the test database's
        # teardown would otherwise find still open.
        connections.close_all()


def test_a_moderator_works_the_queue_with_the_keyboard(
    live_server: Any, page: Any, acme: Tenant
) -> None:
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user
    first = flagged_item(acme, 1, probability=0.95)
    flagged_item(acme, 2, probability=0.7)
    flagged_item(acme, 3, probability=0.6)

    page.goto(f"{live_server.url}/login")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    assert "3 open items" in page.inner_text("main")

    page.keyboard.press("?")
    assert "take the next item" in page.inner_text("#shortcut-help")
    page.keyboard.press("Escape")
    page.keyboard.press("n")  # take the next item
    page.wait_for_url(f"{live_server.url}/t/acme/items/{first.pk}")
    marks = page.locator("mark.c-secrecy_request")
    assert marks.count() == 1
    assert marks.first.inner_text() == "dont tell yo"
    assert page.locator("text=send me a pic").count() == 0, "hidden until revealed"

    page.keyboard.press("j")  # first highlighted message
    page.keyboard.press("j")  # the hidden one
    page.keyboard.press("r")  # reveal it
    page.wait_for_selector("mark.c-media_request")
    assert AuditEvent.objects.filter(tenant=acme, action="reveal").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)

    page.keyboard.press("?")
    assert page.is_visible("#shortcut-help")
    page.keyboard.press("Escape")

    page.keyboard.press("b")  # verdict: ban; focus moves to the reason
    page.keyboard.type("Grooming")
    page.keyboard.press("Tab")  # notes
    page.keyboard.type("asks for secrecy and a picture")
    page.keyboard.press("Tab")  # "Decide and take next"
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/items/" in url and f"/items/{first.pk}" not in url)

    decision = Decision.objects.get(queue_item=first)
    assert (decision.verdict, decision.reason_code, decision.moderator) == (
        "ban",
        "grooming_indicators",
        alice,
    )
    # The other two, no violation each: the last decision lands on the emptied queue.
    for _ in range(2):
        current = page.url
        page.keyboard.press("c")  # verdict: no violation ("n" is the queue's take-next)
        page.keyboard.type("Benign")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url, current=current: url != current)
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    assert "Nothing is waiting" in page.inner_text("main")
    assert "0 open items" in page.inner_text("main")
    assert Decision.objects.filter(tenant=acme, verdict="no_violation").count() == 2
