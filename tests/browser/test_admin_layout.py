"""The admin pages and the audit trail at a laptop's and a phone's width, with the longest
values they hold: an API key's name of 100 characters (the most a name may have), SHA-256
digests and key fingerprints in an audit event's detail. The page itself never scrolls
sideways: a long token wraps, a wide table scrolls inside its own box."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from review.audit.services import audit_record
from review.models import AuditAction, Role, Tenant
from review.policy.services import policy_change
from review.tenancy.services import api_key_create
from tests.browser.support import sign_in
from tests.browser.test_accessibility import browser  # noqa: F401 (the fixture)
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONGEST_KEY_NAME = "chat_production_eu_west_1_ingestion_" + "x" * 64  # 100 characters


def page_width(tab: Any) -> tuple[int, int]:
    """The document's scroll width and the window's: the first may not exceed the second."""
    return tab.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )


@pytest.fixture
def people(acme: Tenant) -> dict[str, Any]:
    ada = MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="ada").user
    sam = MembershipFactory(tenant=acme, role=Role.SUPERVISOR, user__username="sam").user
    return {"ada": ada, "sam": sam}


def open_as(browser: Any, base: str, username: str, width: int) -> Any:  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    sign_in(tab, base, username, lands_on="/t/acme/**")
    return tab


def test_a_key_with_the_longest_name_keeps_the_keys_page_within_a_laptop_screen(
    live_server: Any,
    browser: Any,  # noqa: F811
    acme: Tenant,
    people: dict[str, Any],
) -> None:
    assert len(LONGEST_KEY_NAME) == 100
    api_key_create(tenant=acme, name=LONGEST_KEY_NAME, created_by=people["ada"])
    tab = open_as(browser, live_server.url, "ada", 1280)

    tab.goto(f"{live_server.url}/t/acme/admin/keys")
    tab.get_by_role("cell", name=LONGEST_KEY_NAME, exact=True).wait_for()

    scroll, window = page_width(tab)
    assert scroll <= window, f"the keys page is {scroll}px wide in a {window}px window"
    revoke = tab.get_by_role("button", name="Revoke").bounding_box()
    assert revoke is not None
    assert revoke["x"] + revoke["width"] <= window, "Revoke is in view"


def test_long_digests_in_the_audit_trail_keep_the_ip_column_on_a_laptop_screen(
    live_server: Any,
    browser: Any,  # noqa: F811
    acme: Tenant,
    people: dict[str, Any],
) -> None:
    digest = hashlib.sha256(b"referral package").hexdigest()
    fingerprint = "SHA256:" + hashlib.sha256(b"signing key").hexdigest()
    audit_record(
        tenant=acme,
        actor=people["sam"],
        action=AuditAction.PACKAGE_DOWNLOAD,
        target_type="case",
        target_id="1",
        detail={"sha256": digest, "bytes": 48213, "key": fingerprint, "status": "open"},
        ip="203.0.113.77",
    )
    audit_record(
        tenant=acme,
        actor=people["ada"],
        action=AuditAction.API_KEY_CREATE,
        target_type="api_key",
        target_id="1",
        detail={"name": LONGEST_KEY_NAME, "prefix": "art_abcdefgh"},
        ip="203.0.113.78",
    )
    tab = open_as(browser, live_server.url, "sam", 1280)

    tab.goto(f"{live_server.url}/t/acme/supervision/audit")
    tab.get_by_role("cell", name="203.0.113.77").wait_for()

    scroll, window = page_width(tab)
    assert scroll <= window, f"the audit trail is {scroll}px wide in a {window}px window"
    ip = tab.get_by_role("cell", name="203.0.113.77").bounding_box()
    assert ip is not None
    assert ip["x"] + ip["width"] <= window, "the IP column is in view"


def test_the_policy_page_with_a_rollback_form_fits_a_phone(
    live_server: Any,
    browser: Any,  # noqa: F811
    acme: Tenant,
    people: dict[str, Any],
) -> None:
    policy_change(
        tenant=acme, actor=people["ada"], reason="stricter", changes={"flag_threshold": 0.6}
    )
    tab = open_as(browser, live_server.url, "ada", 390)

    tab.goto(f"{live_server.url}/t/acme/admin/policy")
    tab.get_by_role("button", name="Roll back to #1").wait_for(state="attached")

    scroll, window = page_width(tab)
    assert scroll <= window, f"the policy page is {scroll}px wide in a {window}px window"


def test_the_revoke_confirmation_for_the_longest_key_name_fits_a_phone(
    live_server: Any,
    browser: Any,  # noqa: F811
    acme: Tenant,
    people: dict[str, Any],
) -> None:
    key, _ = api_key_create(tenant=acme, name=LONGEST_KEY_NAME, created_by=people["ada"])
    tab = open_as(browser, live_server.url, "ada", 390)

    tab.goto(f"{live_server.url}/t/acme/admin/keys/{key.pk}/revoke")
    tab.locator("#confirm-button").wait_for()

    scroll, window = page_width(tab)
    assert scroll <= window, f"the confirmation is {scroll}px wide in a {window}px window"
