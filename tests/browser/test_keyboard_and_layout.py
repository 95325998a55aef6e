"""The review page by keyboard and on screen, in headless Chromium: the README's keys one by
one (a verdict's key, the reason by arrow keys or its number, Enter from anywhere in the
decision panel, Ctrl+Enter in Notes), no key meaning two things on two pages, the lease's
countdown renewed by "t", the decision panel in view on a 64-message conversation, and the
case page's highlighted evidence."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from review.models import (
    Assessment,
    AuditEvent,
    Case,
    Conversation,
    Decision,
    Message,
    Participant,
    QueueItem,
    Role,
    Tenant,
)
from review.queue.services import characteristic_bits, characteristic_tags
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 - the fixture
from tests.factories import MembershipFactory
from tests.review_support import flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _help_keys(tab: Any) -> set[str]:
    """The keys the page's "?" help lists (each <kbd> in it)."""
    tab.keyboard.press("?")
    expect(tab.locator("#shortcut-help")).to_be_visible()
    keys = set(tab.locator("#shortcut-help kbd").all_inner_texts())
    tab.keyboard.press("Escape")
    expect(tab.locator("#shortcut-help")).to_be_hidden()
    return keys


def test_alice_decides_three_items_key_by_key_as_the_readme_says(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user
    first = flagged_item(acme, 1, probability=0.95)
    second = flagged_item(acme, 2, probability=0.8)
    third = flagged_item(acme, 3, probability=0.7)
    base = live_server.url
    sign_in(page, base, "alice")

    queue_keys = _help_keys(page)
    assert "n" in queue_keys
    page.keyboard.press("n")  # take the next item
    page.wait_for_url(f"{base}/t/acme/items/{first.pk}")
    review_keys = _help_keys(page)
    # No key means two things on two pages: only the help's own keys are on both.
    assert queue_keys & review_keys == {"?", "Esc"}
    assert {"j", "k", "r", "t", "x", "c", "w", "s", "b", "e", "l", "a", "Enter"} <= review_keys

    # Ban: the verdict's key, then the reason by arrow keys, then by its number.
    reason = page.locator("#id_reason_code")
    page.keyboard.press("b")
    expect(page.locator("input[name=verdict][value=ban]")).to_be_checked()
    expect(reason).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(reason).to_have_value("grooming_indicators")
    page.keyboard.press("ArrowDown")
    expect(reason).to_have_value("sexual_solicitation")
    page.keyboard.press("ArrowUp")
    expect(reason).to_have_value("grooming_indicators")
    page.keyboard.press("3")
    expect(reason).to_have_value("meeting_planned")
    page.keyboard.press("1")
    expect(reason).to_have_value("grooming_indicators")
    # In Notes, Enter is a new line; Ctrl+Enter submits.
    page.keyboard.press("Tab")
    expect(page.locator("#id_notes")).to_be_focused()
    page.keyboard.type("asks for secrecy")
    page.keyboard.press("Enter")
    page.keyboard.type("then a picture")
    expect(page.locator("#id_notes")).to_have_value("asks for secrecy\nthen a picture")
    assert page.url == f"{base}/t/acme/items/{first.pk}", "Enter in Notes did not submit"
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{base}/t/acme/items/{second.pk}")
    decision = Decision.objects.get(queue_item=first)
    assert (decision.verdict, decision.reason_code, decision.moderator) == (
        "ban",
        "grooming_indicators",
        alice,
    )
    # A form sends a new line as CR LF (HTML's rule); two lines either way.
    assert decision.notes.splitlines() == ["asks for secrecy", "then a picture"]

    # No violation ("c"), its second reason by number, Enter on the reason list.
    page.keyboard.press("c")
    page.keyboard.press("2")
    expect(page.locator("#id_reason_code")).to_have_value("peers_same_age")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/t/acme/items/{third.pk}")
    decision = Decision.objects.get(queue_item=second)
    assert (decision.verdict, decision.reason_code) == ("no_violation", "peers_same_age")

    # Warn, then Enter with the focus on a verdict: anywhere in the panel submits.
    page.keyboard.press("w")
    page.keyboard.press("1")
    page.focus("input[name=verdict][value=warn]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/t/acme/queue")
    decision = Decision.objects.get(queue_item=third)
    assert (decision.verdict, decision.reason_code) == ("warn", "grooming_indicators")


def test_the_lease_counts_down_and_t_renews_it(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")
    item = flagged_item(acme, 1)
    base = live_server.url
    sign_in(page, base, "alice")
    page.keyboard.press("n")
    page.wait_for_url(f"{base}/t/acme/items/{item.pk}")
    countdown = page.locator("[data-lease-time]")
    expect(countdown).to_have_text(_minutes(9, 10))

    # Ninety seconds left, as if she had been reading for a while.
    QueueItem.objects.filter(pk=item.pk).update(
        lease_expires_at=timezone.now() + timedelta(seconds=90)
    )
    page.reload()
    expect(countdown).to_have_text(_minutes(1, 1))
    page.keyboard.press("t")
    expect(page.locator("[data-lease-status]")).to_have_text("Renewed.")
    expect(countdown).to_have_text(_minutes(9, 10))
    item.refresh_from_db()
    assert item.lease_expires_at > timezone.now() + timedelta(minutes=9)


def _minutes(low: int, high: int) -> re.Pattern[str]:
    """A countdown reading m:ss with low <= m <= high."""
    return re.compile(rf"^({'|'.join(str(m) for m in range(low, high + 1))}):[0-5]\d$")


def _long_item(tenant: Tenant, messages: int = 64) -> QueueItem:
    """A flagged conversation of ``messages`` messages, two of them highlighted."""
    child = Participant.objects.create(tenant=tenant, external_id="kid-long", declared_age=13)
    adult = Participant.objects.create(tenant=tenant, external_id="adult-long")
    conversation = Conversation.objects.create(
        tenant=tenant, external_id="c-long", message_count=messages
    )
    conversation.participants.add(child, adult)
    now = timezone.now()
    for i in range(messages):
        Message.objects.create(
            conversation=conversation, external_id=f"m{i}", sender=adult if i % 2 else child,
            sent_at=now + timedelta(minutes=i), utc_offset_minutes=0, position=i,
            text="dont tell your mom we talk" if i == 9 else f"message number {i} about school",
        )  # fmt: skip
    assessment = Assessment.objects.create(
        conversation=conversation, model_version="test", probability=0.9,
        characteristic_scores={}, message_count=messages, content_fingerprint="long",
        scored_at=now,
        highlights=[{"message": "m9", "characteristic": "secrecy_request", "score": 0.9,
                     "spans": [[0, 12]]}],
    )  # fmt: skip
    return QueueItem.objects.create(
        tenant=tenant, conversation=conversation, assessment=assessment, priority=0.9,
        rank=0.9, enqueued_at=now, characteristics=characteristic_tags(assessment),
        probability=0.9, characteristic_bits=characteristic_bits(assessment),
    )  # fmt: skip


def test_the_decision_panel_stays_in_view_on_a_64_message_conversation(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")
    item = _long_item(acme)
    base = live_server.url
    sign_in(page, base, "alice")
    page.keyboard.press("n")
    page.wait_for_url(f"{base}/t/acme/items/{item.pk}")
    expect(page.locator("#transcript > li")).to_have_count(64)
    height = page.viewport_size["height"]
    assert height == 1000
    assert page.evaluate("document.documentElement.scrollHeight") > 2 * height, "a long page"

    panel = page.locator("[data-decision-panel]")
    for where in (
        "0",
        "document.documentElement.scrollHeight / 2",
        "document.documentElement.scrollHeight",
    ):
        page.evaluate(f"window.scrollTo(0, {where})")
        box = panel.bounding_box()
        assert box is not None
        assert box["y"] >= 0, (where, box)
        assert box["y"] + box["height"] <= height, (where, box)
        # Its submit button and countdown are on screen too, not scrolled inside the panel.
        for part in ("button[type=submit]", "[data-lease-time]"):
            inner = panel.locator(part).first.bounding_box()
            assert inner is not None
            assert 0 <= inner["y"] <= height - inner["height"], (part, where, inner)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-long-conversation.png"))


def test_the_case_page_shows_the_flagged_messages_highlighted(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")
    item = flagged_item(acme, 1, probability=0.95)
    base = live_server.url
    sign_in(page, base, "alice")
    page.keyboard.press("n")
    page.wait_for_url(f"{base}/t/acme/items/{item.pk}")
    page.keyboard.press("l")  # escalate to law enforcement
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/t/acme/cases/*")
    case = Case.objects.get(decision__queue_item=item)

    evidence = page.locator("#case-evidence")
    expect(evidence.locator("li.msg")).to_have_count(2)  # the flagged two of three
    expect(evidence.locator("mark.c-secrecy_request")).to_have_text("dont tell yo")
    assert "hey how was school" not in evidence.inner_text(), "only the flagged messages"
    assert "send me a pic" not in evidence.inner_text(), "hidden until revealed"
    evidence.locator("button.reveal").click()  # revealed in place, by htmx
    expect(evidence.locator("mark.c-media_request")).to_have_text("send me a pi")
    assert AuditEvent.objects.filter(tenant=acme, action="reveal").count() == 1
    assert page.url == f"{base}/t/acme/cases/{case.pk}"
