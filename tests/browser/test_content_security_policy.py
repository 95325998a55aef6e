"""The console under its Content-Security-Policy in a real browser (headless Chromium,
Playwright): ada the admin walks through every main page, takes an item and reveals a
message with the keyboard (review.js), lets htmx reveal and swap the tuning figures, and
Chromium reports no violation of the policy on any page. A script injected into a page
afterwards is blocked and reported, so the listener is shown to hear what it listens for."""

from __future__ import annotations

from typing import Any

import pytest

from review.cases.referral import signing
from review.models import AuditEvent, Role, Tenant
from scoring import characteristics
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import page  # noqa: F401 - the Chromium fixture
from tests.factories import MembershipFactory
from tests.review.cases.test_cases import approved_referral
from tests.review.supervision_support import decide, sample_every_decision
from tests.review_support import flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Reported by the page itself (the DOM event), before any of its own scripts run.
LISTEN = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const seen = `${location.pathname}: ${event.effectiveDirective} blocked ${event.blockedURI}`;
  window.cspViolations.push(seen);
  window.reportViolation(seen);
});
"""


class Violations:
    """What Chromium reports against the policy: the DOM event and the console's errors."""

    def __init__(self, tab: Any) -> None:
        self.seen: list[str] = []
        tab.expose_function("reportViolation", self._report)
        tab.add_init_script(LISTEN)
        tab.on("console", self._console)

    def _report(self, violation: str) -> None:
        self.seen.append(violation)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.seen.append(f"console: {message.text}")


def test_the_console_runs_under_its_policy_with_no_violation(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
    settings: Any,
) -> None:
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = signing.private_key_pem(signing.new_private_key())
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user
    sam = MembershipFactory(tenant=acme, role=Role.SUPERVISOR, user__username="sam").user
    ada = MembershipFactory(
        tenant=acme, role=Role.ADMIN, user__username="ada", user__is_staff=True,
        user__is_superuser=True,
    ).user  # fmt: skip
    case = approved_referral(acme, alice, sam)
    sample_every_decision(acme)
    decided = decide(acme, alice)  # its blind second review waits for ada
    item = flagged_item(acme, 5, probability=0.95)
    base = live_server.url
    violations = Violations(page)

    def visit(path: str, ready: str) -> None:
        page.goto(f"{base}{path}")
        page.wait_for_selector(ready)

    visit("/login", "#id_username")
    sign_in(page, base, ada.username)  # the verify page is checked for violations too

    # The keyboard script: "n" takes the next item, "j" moves between highlights, "r"
    # reveals the hidden one, which htmx swaps in place.
    page.keyboard.press("n")
    page.wait_for_url(f"{base}/t/acme/items/{item.pk}")
    assert page.locator("text=send me a pic").count() == 0, "hidden until revealed"
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("r")
    page.wait_for_selector("mark.c-media_request")
    assert AuditEvent.objects.filter(tenant=acme, action="reveal").count() == 1
    assert page.url.endswith(f"/items/{item.pk}"), "revealed in place, by htmx"
    page.keyboard.press("?")
    page.wait_for_selector("#shortcut-help:not([hidden])")

    # The characteristic colours come from the nonced <style>: a highlight has its colour
    # (a <mark> would otherwise keep the browser's yellow).
    hex_colour = characteristics.get("media_request").colour.lstrip("#")
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    colour = page.eval_on_selector(
        "mark.c-media_request", "el => getComputedStyle(el).backgroundColor"
    )
    assert colour == f"rgb({red}, {green}, {blue})", "the nonced <style> applied"

    visit("/t/acme/queue", "#queue-table")
    visit("/t/acme/second-reviews", "main h1")
    visit("/t/acme/cases", "main h1")
    visit("/t/acme/cases/inbox", "main h1")
    visit(f"/t/acme/cases/{case.pk}", "#referral-panel, main h1")
    visit("/t/acme/decisions", "main h1")
    visit("/t/acme/supervision/inbox", "main h1")
    visit(f"/t/acme/supervision/conversations/{decided.conversation_id}", "main h1")
    visit("/t/acme/supervision/agreement", "main h1")
    visit("/t/acme/supervision/audit", "main h1")
    visit("/t/acme/admin/members", "main h1")
    visit("/t/acme/admin/keys", "main h1")
    visit("/t/acme/admin/policy", "main h1")
    visit("/t/acme/admin/models", "main h1")
    visit("/password", "#id_old_password")

    # htmx on the tuning page: typing a candidate threshold swaps the figures in.
    visit("/t/acme/admin/tuning", "#candidate")
    page.fill("#candidate", "0.4")
    page.wait_for_selector("#apply-threshold")
    assert "0.40" in page.inner_text("#figures-candidate")

    # Django's own admin and the API's documentation (Swagger UI renders with its script).
    visit("/django-admin/", "#content")
    visit("/django-admin/auth/user/", "#changelist")
    visit("/api/docs", ".swagger-ui .info .title")

    assert not violations.seen, "\n".join(violations.seen)

    # The listener hears what it listens for: an injected inline script is blocked and
    # reported (as a stored-XSS payload that escaped the templates would be).
    visit("/t/acme/queue", "#queue-table")
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.injected = true"; document.body.append(s); }"""
    )
    page.wait_for_function("() => window.cspViolations.length > 0")
    assert page.evaluate("() => window.cspViolations") == [
        "/t/acme/queue: script-src-elem blocked inline"
    ]
    assert page.evaluate("() => window.injected") is None, "the injected script never ran"
