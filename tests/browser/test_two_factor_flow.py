"""Two-factor sign-in in a real browser (headless Chromium, Playwright): sam the supervisor
signs in with his password, is sent to enrolment, reads the key off the page, computes the
code an authenticator app would show, keeps his recovery codes and gets in; signs out, and
signs in again with a recovery code. Saves a screenshot of the enrolment page in artifacts/."""

from __future__ import annotations

from base64 import b32decode
from typing import Any

import pytest
from django_otp.oath import totp

from review.models import AuditAction, AuditEvent, Role, Tenant
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 - the fixture
from tests.factories import MembershipFactory
from tests.review_support import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(tab: Any, base: str, username: str) -> None:
    tab.goto(f"{base}/login")
    tab.fill("#id_username", username)
    tab.fill("#id_password", PASSWORD)
    tab.keyboard.press("Enter")


def test_a_supervisor_enrols_at_first_sign_in_and_later_uses_a_recovery_code(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    from playwright.sync_api import expect

    sam = MembershipFactory(tenant=acme, role=Role.SUPERVISOR, user__username="sam").user
    base = live_server.url

    password_step(page, base, "sam")
    page.wait_for_url(f"{base}/two-factor/setup?**")
    expect(page.locator("svg.qr")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "two-factor-setup.png"), full_page=True)
    page.goto(f"{base}/t/acme/queue")  # nothing else is reachable yet
    page.wait_for_url(f"{base}/two-factor/setup?**")

    key = b32decode(page.inner_text("#totp-secret").replace(" ", ""))
    page.fill("#id_code", str(totp(key)).zfill(6))  # what the authenticator app shows
    page.click("#confirm-two-factor")
    page.wait_for_url(f"{base}/two-factor/recovery-codes?**")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("#continue")
    page.wait_for_url(f"{base}/t/acme/queue")
    expect(page.locator("header")).to_contain_text("sam · Supervisor")

    page.click("text=Log out")
    page.wait_for_url(f"{base}/login")
    password_step(page, base, "sam")
    page.wait_for_url(f"{base}/two-factor/verify?**")
    page.fill("#id_code", codes[0])
    page.click("#verify-two-factor")
    page.wait_for_url(f"{base}/t/acme/queue")
    expect(page.locator(".messages")).to_contain_text("recovery code; 9 left")

    actions = set(
        AuditEvent.objects.filter(tenant=acme, actor=sam).values_list("action", flat=True)
    )
    assert {AuditAction.TWO_FACTOR_ENROL, AuditAction.TWO_FACTOR_RECOVERY} <= actions
