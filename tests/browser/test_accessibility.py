"""Every console page, as alice the moderator, sam the supervisor and ada the admin would open
it, checked by axe-core in headless Chromium in the light and the dark colour scheme: no
serious or critical violation. Then the pages a member works on most, at a phone's, a
tablet's and a laptop's width: nothing spills sideways and the transcript stays readable.
Screenshots of each width are saved in artifacts/widths/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from review.appeals.services import appeal_receive
from review.decisions.services import decision_create
from review.models import Case, Role, Tenant
from review.queue.services import queue_item_claim_next
from scoring import characteristics
from tests.browser.axe import axe_script, blocking_violations
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import ARTIFACTS, CHROMIUM
from tests.conftest import skip_or_fail
from tests.factories import MembershipFactory
from tests.review_support import PASSWORD, authenticator, flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 768, 1280)
# The narrowest transcript, in CSS pixels, that still reads as a conversation at each width:
# the whole width on a phone, beside the decision panel on a tablet and a laptop.
USABLE_TRANSCRIPT = {390: 320, 768: 400, 1280: 640}
SCREENSHOTS = ARTIFACTS / "widths"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # As in test_moderator_flow: Playwright's loop runs in this thread, the ORM set-up is sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        skip_or_fail("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()
        connections.close_all()


@pytest.fixture
def console(acme: Tenant) -> Case:
    """Alice, sam and ada at Acme; three flagged conversations, one of them escalated by
    alice into a case (so the decision log, the case pages and the audit trail have rows)."""
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user
    MembershipFactory(tenant=acme, role=Role.SUPERVISOR, user__username="sam")
    MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada")
    for n in (1, 2, 3):
        flagged_item(acme, n, probability=1 - n / 10)
    item = queue_item_claim_next(tenant=acme, moderator=alice)
    assert item is not None
    decision = decision_create(
        item=item,
        moderator=alice,
        verdict="escalate_law_enforcement",
        reason_code="grooming_indicators",
    )
    assert decision.case is not None
    # A ban of alice's, appealed by its user: sam takes the appeal.
    banned = queue_item_claim_next(tenant=acme, moderator=alice)
    assert banned is not None
    ban = decision_create(
        item=banned, moderator=alice, verdict="ban", reason_code="grooming_indicators"
    )
    appeal_receive(
        tenant=acme, decision_id=ban.pk, external_id="appeal-1",
        statement="we are classmates", made_at=ban.created_at,
    )  # fmt: skip
    return decision.case


def pages_of(case: Case) -> dict[str, tuple[str, ...]]:
    """Who opens what: each member's pages (the review page is reached by taking an item)."""
    conversation = case.decision.queue_item.conversation_id
    return {
        "alice": (
            "/t/acme/queue",
            "take-next",
            f"/t/acme/cases/{case.pk}",
            "/t/acme/cases",
            "/t/acme/second-reviews",
            "/t/acme/appeals",
            "/invitations",
            "/password",
        ),
        "sam": (
            "/t/acme/decisions",
            "/t/acme/supervision/inbox",
            f"/t/acme/supervision/conversations/{conversation}",
            "/t/acme/cases/inbox",
            f"/t/acme/cases/{case.pk}",
            "/t/acme/supervision/agreement",
            "take-appeal",
            "/t/acme/supervision/audit",
            f"/t/acme/search?q={case.conversation.external_id}",
            f"/t/acme/participants/{case.reported_participant_id}",
        ),
        "ada": (
            "/t/acme/admin/",
            "/t/acme/admin/members",
            "/t/acme/admin/keys",
            "/t/acme/admin/sign-in",
            "/t/acme/admin/policy",
            "/t/acme/admin/tuning",
            "/t/acme/admin/models",
        ),
    }


def password_only(tab: Any, base: str, username: str) -> None:
    tab.context.clear_cookies()
    tab.goto(f"{base}/login")
    tab.fill("#id_username", username)
    tab.fill("#id_password", PASSWORD)
    tab.keyboard.press("Enter")


def open_page(tab: Any, base: str, page: str) -> None:
    if page == "take-next":
        tab.goto(f"{base}/t/acme/queue")
        tab.click("#take-next")
        tab.wait_for_url(f"{base}/t/acme/items/*")
        return
    if page == "take-appeal":
        tab.goto(f"{base}/t/acme/appeals")
        tab.click("#take-appeal")
        tab.wait_for_url(f"{base}/t/acme/appeals/*")
        return
    response = tab.goto(f"{base}{page}")
    assert response is not None
    assert response.ok, f"{page} answered {response.status}"


def test_every_console_page_has_no_serious_accessibility_violation_in_either_scheme(
    live_server: Any, browser: Any, console: Case
) -> None:
    axe_script()
    base = live_server.url
    # bypass_csp lets the test inject axe-core; the pages' own policy is tested elsewhere.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    tab = context.new_page()
    found: list[str] = []

    def check(page: str) -> None:
        for scheme in ("light", "dark"):
            tab.emulate_media(color_scheme=scheme)
            found.extend(f"{page} [{scheme}] {line}" for line in blocking_violations(tab))
        if page == "take-next":  # the page a moderator sees most, in the dark theme
            # Besides its colour, a highlight shows its characteristic's symbol.
            symbol = tab.eval_on_selector(
                "mark.c-secrecy_request", "m => getComputedStyle(m, '::before').content"
            )
            assert symbol.startswith(f'"{characteristics.get("secrecy_request").symbol}"')
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOTS / "review-dark-1280.png"), full_page=True)

    tab.goto(f"{base}/login")
    check("/login")
    # The second step of signing in: sam's code, and otto's set-up (a new admin, no app yet).
    authenticator(get_user_model().objects.get(username="sam"))
    MembershipFactory(tenant=console.tenant, role=Role.ADMIN, user__username="otto")
    for username, second_step in (("sam", "/two-factor/verify"), ("otto", "/two-factor/setup")):
        password_only(tab, base, username)
        tab.wait_for_url(f"{base}{second_step}**")
        check(second_step)
    for username, pages in pages_of(console).items():
        sign_in(tab, base, username)
        for page in pages:
            open_page(tab, base, page)
            check(page)
    context.close()

    assert not found, "axe-core found:\n" + "\n".join(found)


def spills_sideways(tab: Any) -> list[str]:
    """What sticks out past the window's right edge (the page scrolls sideways), by tag and
    class; a wide table scrolling inside its own box is fine."""
    return tab.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width + 1) return [];
            return [...document.querySelectorAll('main *, header *')]
                .filter(el => el.getBoundingClientRect().right > width + 1)
                .filter(el => getComputedStyle(el).position !== 'fixed')
                .slice(0, 5)
                .map(el => el.tagName.toLowerCase() + '.' + [...el.classList].join('.'));
        }"""
    )


def test_the_working_pages_fit_a_phone_a_tablet_and_a_laptop(
    live_server: Any, browser: Any, console: Case
) -> None:
    base = live_server.url
    conversation = console.decision.queue_item.conversation_id
    pages = {
        "alice": {
            "queue": "/t/acme/queue",
            "review": "take-next",
            "case": f"/t/acme/cases/{console.pk}",
        },
        "sam": {
            "decisions": "/t/acme/decisions",
            "supervisor-review": f"/t/acme/supervision/conversations/{conversation}",
            "escalations": "/t/acme/cases/inbox",
            "audit": "/t/acme/supervision/audit",
        },
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        tab = context.new_page()
        for username, named in pages.items():
            sign_in(tab, base, username)
            for name, page in named.items():
                open_page(tab, base, page)
                tab.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
                if spilled := spills_sideways(tab):
                    problems.append(f"{name} at {width}px spills sideways: {spilled}")
                if tab.locator(".transcript").count():
                    transcript = tab.locator(".transcript").first.bounding_box()
                    wanted = USABLE_TRANSCRIPT[width]
                    if transcript is None or transcript["width"] < wanted:
                        problems.append(f"{name} at {width}px: transcript {transcript}")
        context.close()
    print(f"screenshots at three widths: {SCREENSHOTS}")

    assert not problems, "\n".join(problems)
