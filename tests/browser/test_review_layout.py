"""The review page's side column at a laptop's 1280x900 and a phone's 390px, in headless
Chromium: the decision panel stays on screen and hides nothing of "Why it was flagged" and
the cards under it (they scroll in their own box above it), and on a phone the page reads
top to bottom with nothing cut off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Assessment, QueueItem, Role, Tenant
from tests.browser.support import sign_in
from tests.browser.test_keyboard_and_layout import _long_item
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 - the fixture
from tests.factories import MembershipFactory
from tests.review.appeals.support import appeal_of
from tests.review.supervision_support import decide
from tests.review_support import flagged_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every piece of text in the side column outside the decision panel that is painted on
# screen (its part inside the viewport and inside every box that clips it), and lies lower
# than the panel's top: behind the panel, or showing through beneath it.
UNDER_THE_PANEL = """() => {
  const panel = document.querySelector("[data-decision-panel]");
  const panelTop = panel.getBoundingClientRect().top;
  const side = panel.closest(".side-col");
  const found = [];
  const walker = document.createTreeWalker(side, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || panel.contains(node)) continue;
    let top = 0, bottom = window.innerHeight;
    for (let box = node.parentElement; box && box !== side.parentElement; box = box.parentElement) {
      if (getComputedStyle(box).overflowY === "visible") continue;
      const r = box.getBoundingClientRect();
      top = Math.max(top, r.top);
      bottom = Math.min(bottom, r.bottom);
    }
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      const shownTop = Math.max(r.top, top), shownBottom = Math.min(r.bottom, bottom);
      if (shownBottom - shownTop > 0.5 && shownBottom > panelTop + 0.5) {
        found.push(node.textContent.trim().slice(0, 50) + " @" + Math.round(r.top));
      }
    }
  }
  return found;
}"""

# The side column runs from near the window's top to near its bottom.
FILLS_THE_WINDOW = """() => {
  const box = document.querySelector(".side-col").getBoundingClientRect();
  return box.top < 20 && box.bottom > window.innerHeight - 20;
}"""

COUNTDOWN = re.compile(r"^\d+:[0-5]\d$")

# Where the page is scrolled to: the top, halfway, the bottom.
SCROLLS = (
    "0",
    "document.documentElement.scrollHeight / 2",
    "document.documentElement.scrollHeight",
)


def _tall_side(item: QueueItem) -> QueueItem:
    """More to read beside the transcript than a 900-pixel window holds: several factors
    and a score history, as a real assessment has."""
    Assessment.objects.filter(pk=item.assessment_id).update(
        factors=[
            f"Secrecy request in {n} messages from adult, first at 10:0{n} on 01 Nov (UTC-07:00)"
            for n in range(1, 6)
        ]
        + ["Declared ages 13 and 40", "Strongest evidence in messages 1-3 of 3"]
    )
    return item


def _open(tab: Any, base: str, item: QueueItem, width: int, height: int) -> None:
    """Alice takes ``item`` in a window of that size; the page's script has run (the
    countdown reads m:ss) when this returns."""
    tab.set_viewport_size({"width": width, "height": height})
    sign_in(tab, base, "alice")
    tab.keyboard.press("n")
    tab.wait_for_url(f"{base}/t/acme/items/{item.pk}")
    expect(tab.locator("[data-decision-panel] [data-lease-time]")).to_have_text(COUNTDOWN)


def _in_view_hiding_nothing(tab: Any, panel: Any, height: int) -> None:
    """At the page's top, halfway and bottom, the decision panel is wholly in the window and
    nothing of the side column is painted under it."""
    for where in SCROLLS:
        tab.evaluate(f"window.scrollTo(0, {where})")
        assert tab.evaluate(UNDER_THE_PANEL) == [], where
        box = panel.bounding_box()
        assert box is not None
        assert box["y"] >= 0, (where, box)
        assert box["y"] + box["height"] <= height, (where, box)


@pytest.mark.parametrize("long", [False, True], ids=["3 messages", "64 messages"])
def test_at_1280x900_the_decision_panel_hides_nothing_of_why_it_was_flagged(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
    long: bool,
) -> None:
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")
    item = _tall_side(_long_item(acme) if long else flagged_item(acme, 1))
    _open(page, live_server.url, item, 1280, 900)
    panel = page.locator("[data-decision-panel]")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"review-1280x900-{'long' if long else 'short'}.png"))

    _in_view_hiding_nothing(page, panel, 900)
    if long:
        # Scrolled past the header, the column takes the whole window's height back.
        page.evaluate(f"window.scrollTo(0, {SCROLLS[1]})")
        page.wait_for_function(FILLS_THE_WINDOW)
        assert page.evaluate(UNDER_THE_PANEL) == []

    # Everything in the side column can still be read: the last line scrolls into view,
    # and what is painted at its centre is that line, not the panel.
    page.evaluate("window.scrollTo(0, 0)")
    for last in ("ul.factors li >> nth=-1", ".legend li >> nth=-1"):
        line = page.locator(f".side-col {last}")
        line.scroll_into_view_if_needed()
        box = line.bounding_box()
        assert box is not None
        on_top = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('li')?.textContent",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top == line.text_content(), (last, on_top)
        assert page.evaluate(UNDER_THE_PANEL) == [], last


def test_at_1280x900_the_appeal_outcome_panel_hides_nothing_of_the_appeal(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
    alice: Any,
    bob: Any,
) -> None:
    """The appeal page pins its column as the review page does: the user's statement and
    the appealed decision are read in the box above the outcome panel, never under it."""
    ban = decide(acme, alice, notes="asked for a photo twice")
    _tall_side(ban.queue_item)
    appeal_of(ban, statement="\n".join(f"line {n} of what the user wrote" for n in range(12)))
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, "bob")
    page.goto(f"{live_server.url}/t/acme/appeals")
    page.click("#take-appeal")
    page.wait_for_url(f"{live_server.url}/t/acme/appeals/*")
    expect(page.locator("[data-decision-panel] [data-lease-time]")).to_have_text(COUNTDOWN)
    panel = page.locator("[data-decision-panel]")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "appeal-1280x900.png"))

    _in_view_hiding_nothing(page, panel, 900)
    # The statement and the appealed decision scroll into view, uncovered.
    page.evaluate("window.scrollTo(0, 0)")
    for last in ("#appeal-statement", "#appealed-decision"):
        line = page.locator(last)
        line.scroll_into_view_if_needed()
        box = line.bounding_box()
        assert box is not None
        on_top = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('#appeal-panel') !== null",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top, last
        assert page.evaluate(UNDER_THE_PANEL) == [], last


def test_at_390px_the_page_reads_top_to_bottom_with_nothing_cut_off(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")
    item = _tall_side(flagged_item(acme, 1))
    _open(page, live_server.url, item, 390, 844)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scroll"
    transcript = page.locator(".transcript-col").bounding_box()
    flagged = page.locator(".side-col .card >> nth=0").bounding_box()
    panel = page.locator("[data-decision-panel]")
    box = panel.bounding_box()
    assert transcript is not None
    assert flagged is not None
    assert box is not None
    assert transcript["y"] + transcript["height"] <= flagged["y"] <= box["y"], "stacked"
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert panel.evaluate("el => getComputedStyle(el).position") == "static"
    # No box of the side column holds back part of what it contains.
    clipped = page.evaluate(
        """() => Array.from(document.querySelectorAll(".side-col, .side-col *"))
             .filter(el => el.scrollHeight > el.clientHeight + 1
                           && getComputedStyle(el).overflowY !== "visible")
             .map(el => el.className || el.tagName)"""
    )
    assert clipped == []

    page.keyboard.press("w")  # a warning and its first reason, then the button: decided
    page.keyboard.press("1")
    page.locator("#id_notes").fill("read on a phone")
    panel.locator("form[data-decision-form] button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/t/acme/queue")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-390.png"))
