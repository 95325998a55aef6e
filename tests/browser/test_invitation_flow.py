"""An admin invites someone from another tenant in a real browser, and they join only by
accepting: Ada (Acme's admin) invites gus; Gus (a Globex moderator) signs in, finds the
invitation, accepts it, and lands in Acme's queue as a supervisor."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Membership, Role, Tenant
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 (fixture)
from tests.factories import MembershipFactory
from tests.review_support import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, base: str, username: str) -> None:  # noqa: F811
    page.goto(f"{base}/login")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")


def test_an_invited_user_accepts_in_the_browser_and_joins_the_tenant(
    live_server: Any,
    page: Any,  # noqa: F811
    acme: Tenant,
    globex: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada")
    gus = MembershipFactory(tenant=globex, role=Role.MODERATOR, user__username="gus").user

    sign_in(page, live_server.url, "ada")  # an admin: password, then the second factor
    page.goto(f"{live_server.url}/t/acme/admin/members")
    page.fill("#id_invitee", "gus")
    page.select_option("#invite-form select[name=role]", "supervisor")
    page.click("text=Send invitation")
    expect(page.locator("ul.messages")).to_contain_text("Invitation sent to gus as supervisor")
    expect(page.locator("#invitations")).to_contain_text("Pending")
    assert not Membership.objects.filter(tenant=acme, user=gus).exists()
    page.click("header button:has-text('Log out')")

    _sign_in(page, live_server.url, "gus")
    expect(page.locator("#invitations-waiting")).to_contain_text("1 invitation waiting for you")
    page.click("#invitations-waiting a")
    expect(page.locator("#my-invitations")).to_contain_text("Acme Chat")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invitations-page.png"), full_page=True)
    page.click("#my-invitations button:has-text('Accept')")

    # A supervisor must use a second factor: gus sets one up before he sees anything of Acme.
    page.wait_for_url(f"{live_server.url}/two-factor/setup**")
    expect(page.locator("ul.messages")).to_contain_text("You joined Acme Chat as supervisor")
    assert Membership.objects.get(tenant=acme, user=gus).role == Role.SUPERVISOR
