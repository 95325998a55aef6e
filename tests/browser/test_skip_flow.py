"""Skip means skip, in Chromium: the moderator who skips an item is handed the next one, and
another moderator can still take the skipped item."""

from __future__ import annotations

from typing import Any

import pytest

from review.models import QueueItem, Role, Tenant
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import page  # noqa: F401 - the fixture
from tests.factories import MembershipFactory
from tests.review_support import flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_skips_with_x_and_n_brings_the_next_item_while_bob_takes_the_skipped_one(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    for name in ("alice", "bob"):
        MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username=name)
    first = flagged_item(acme, 1, probability=0.95)
    second = flagged_item(acme, 2, probability=0.8)
    base = live_server.url
    sign_in(page, base, "alice")

    page.keyboard.press("n")
    page.wait_for_url(f"{base}/t/acme/items/{first.pk}")
    page.keyboard.press("x")  # skip: back to the queue
    page.wait_for_url(f"{base}/t/acme/queue")
    page.keyboard.press("n")
    page.wait_for_url(f"{base}/t/acme/items/{second.pk}")
    assert QueueItem.objects.get(pk=second.pk).claimed_by.username == "alice"

    bobs = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = bobs.new_page()
        sign_in(tab, base, "bob")
        tab.keyboard.press("n")
        tab.wait_for_url(f"{base}/t/acme/items/{first.pk}")
    finally:
        bobs.close()
    assert QueueItem.objects.get(pk=first.pk).claimed_by.username == "bob"
