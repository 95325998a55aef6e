"""Issue 15 end to end, in a real browser, with real parts: alice bans three accounts and a
real Celery worker on Redis tells the platform (a real HTTP endpoint on a loopback port) by
the signed webhook. The platform posts each user's appeal to the API by the webhook's
decision id. Bob takes the appeals from the queue in the browser: he upholds the first,
overturns the second with a new decision, and refers the third; sam the supervisor takes
the referred one and upholds it. For each outcome the worker delivers a signed appeal
webhook with the new account action and the statement of reasons, and none of the chat or
the user's words."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from review.models import Appeal, Decision, Role, Tenant
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import page  # noqa: F401 - the Chromium fixture
from tests.conftest import api_client_for, wait_for
from tests.listeners import Listener, trust
from tests.review.supervision_support import decide, member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

SECRET = "acme-platform-secret"
# Each user's own words: they reach the reviewer's page, never the webhook.
WORDS = ["appeal-words-one", "appeal-words-two", "appeal-words-three"]


@pytest.fixture
def platform(settings: Any) -> Iterator[Listener]:
    """Acme's webhook endpoint on 127.0.0.1, trusted by the operator (web and worker)."""
    listener = Listener(status=204)
    trust(settings, listener.url())
    yield listener
    listener.close()


@pytest.fixture
def worker_env(platform: Listener) -> dict[str, str]:
    return {"ARTEMIS_OUTBOUND_TRUSTED_HOSTS": urlsplit(platform.url()).netloc}


def events(platform: Listener, event: str) -> list[dict[str, Any]]:
    """The webhook bodies the platform received for ``event``, each signature checked."""
    found = []
    for heard in list(platform.heard):
        timestamp = heard.headers["X-Artemis-Timestamp"]
        mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + heard.body, hashlib.sha256)
        assert heard.headers["X-Artemis-Signature"] == "sha256=" + mac.hexdigest()
        body = json.loads(heard.body)
        if body["event"] == event:
            found.append(body)
    return found


def appeal_event(platform: Listener, appeal_id: str) -> dict[str, Any]:
    wait_for(lambda: any(b["appeal_id"] == appeal_id for b in events(platform, "appeal")))
    [body] = [b for b in events(platform, "appeal") if b["appeal_id"] == appeal_id]
    text = json.dumps(body)
    assert "dont tell" not in text  # no chat
    assert not any(words in text for words in WORDS)  # nor the user's statement
    return body


def take_next_appeal(tab: Any, base: str, words: str) -> None:
    tab.goto(f"{base}/t/acme/appeals")
    tab.click("#take-appeal")
    tab.wait_for_url(f"{base}/t/acme/appeals/*")
    assert words in tab.inner_text("#appeal-statement")


def test_an_appeal_goes_from_the_api_through_the_queue_to_the_webhook_for_each_outcome(
    live_server: Any,
    page: Any,  # noqa: F811
    acme: Tenant,
    platform: Listener,
    worker: Any,
) -> None:
    base = live_server.url
    Tenant.objects.filter(pk=acme.pk).update(webhook_url=platform.url(), webhook_secret=SECRET)
    acme.refresh_from_db()
    alice = member(acme, "alice")
    member(acme, "bob")
    member(acme, "sam", Role.SUPERVISOR)
    bans = [decide(acme, alice, notes=f"alice-note-{n}") for n in range(3)]

    # The worker tells the platform of each ban; the platform appeals by the decision id.
    wait_for(lambda: len(events(platform, "decision")) == 3)
    sent = sorted(b["decision"] for b in events(platform, "decision"))
    assert sent == [d.pk for d in bans]
    api = api_client_for(acme)
    for n, decision_id in enumerate(sent):
        response = api.post(
            "/api/v1/appeals",
            {
                "appeal_id": f"ap-{n}",
                "decision": decision_id,
                "statement": WORDS[n],
                "made_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
            },
            format="json",
        )
        assert response.status_code == 201, response.content

    # Bob upholds the first.
    sign_in(page, base, "bob")
    take_next_appeal(page, base, WORDS[0])
    assert "alice-note-0" in page.inner_text("#appealed-decision + blockquote")
    page.check("input[name=outcome][value=upheld]")
    page.click("#record-appeal")
    page.wait_for_url(f"{base}/t/acme/appeals")
    upheld = appeal_event(platform, "ap-0")
    assert (upheld["outcome"], upheld["action"], upheld["new_decision"]) == ("upheld", "ban", None)
    assert upheld["statement_of_reasons"]["action_text"].startswith("Your appeal was not upheld")

    # Bob overturns the second: no violation, peers of a similar age.
    take_next_appeal(page, base, WORDS[1])
    page.check("input[name=outcome][value=overturned]")
    page.check("input[name=verdict][value=no_violation]")
    page.select_option("#id_reason_code", "peers_same_age")
    page.fill("#id_notes", "two classmates")
    page.click("#record-appeal")
    page.wait_for_url(f"{base}/t/acme/appeals")
    overturned = appeal_event(platform, "ap-1")
    new = Decision.objects.get(supersedes_id=sent[1])
    assert (overturned["outcome"], overturned["action"]) == ("overturned", "none")
    assert (overturned["new_decision"], new.verdict) == (new.pk, "no_violation")
    assert "similar age" in overturned["statement_of_reasons"]["ground"]

    # Bob refers the third; the platform hears nothing until sam decides.
    take_next_appeal(page, base, WORDS[2])
    page.check("input[name=outcome][value=referred]")
    page.fill("#id_notes", "ages unclear, needs a supervisor")
    page.click("#record-appeal")
    page.wait_for_url(f"{base}/t/acme/appeals")
    assert "referred to a supervisor" in page.inner_text("main")
    assert Appeal.objects.get(external_id="ap-2").referred_by is not None
    page.goto(f"{base}/t/acme/appeals")
    page.click("#take-appeal")
    # The answer comes back to the same address: wait for its words, not for the URL,
    # which already matched before the click.
    expect(page.locator("main")).to_contain_text("No appeal is waiting for you.")

    sign_in(page, base, "sam")
    page.goto(f"{base}/t/acme/supervision/inbox")
    assert "ap-2" in page.inner_text("#referred-appeals")
    take_next_appeal(page, base, WORDS[2])
    assert "ages unclear" in page.inner_text("#referral-notes")
    page.check("input[name=outcome][value=upheld]")
    page.click("#record-appeal")
    page.wait_for_url(f"{base}/t/acme/appeals")
    referred = appeal_event(platform, "ap-2")
    assert (referred["outcome"], referred["action"]) == ("upheld", "ban")
    assert len(events(platform, "appeal")) == 3
