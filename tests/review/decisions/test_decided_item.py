"""Reading a decided item after the fact ("read the transcript" from a case): the page says
what was decided, by whom and when, and leads back to the case."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from review.decisions.services import decision_create
from review.models import QueueItem, Tenant
from review.queue.services import queue_item_claim_next
from tests.review.cases.test_case_lifecycle import escalate
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db


def test_from_her_case_alice_reads_the_verdict_who_decided_when_and_the_way_back(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)
    client = signed_in(alice)
    case_page = client.get(f"/t/acme/cases/{case.pk}").content.decode()
    transcript = f"/t/acme/items/{case.decision.queue_item_id}"
    assert f'href="{transcript}" id="transcript-link"' in case_page

    html = client.get(transcript).content.decode()

    decided = html.split('<div id="item-decided">')[1].split("</div>")[0]
    assert '<dd id="decided-verdict">Escalate to NCMEC</dd>' in decided
    assert '<dd id="decided-by">alice</dd>' in decided
    assert f"{case.decision.created_at:%Y-%m-%d %H:%M} UTC" in decided
    assert f'<a href="/t/acme/cases/{case.pk}" id="back-to-case">' in decided


def test_another_moderator_sees_the_decision_but_no_link_to_a_case_she_may_not_open(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    case = escalate(acme, alice)

    html = signed_in(bob).get(f"/t/acme/items/{case.decision.queue_item_id}").content.decode()

    assert '<dd id="decided-by">alice</dd>' in html
    assert "back-to-case" not in html, "moderators open only the cases they wrote"


def test_a_decision_superseded_since_says_so(acme: Tenant, alice: Any, bob: Any) -> None:
    first = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=alice)
    decision_create(
        item=first, moderator=alice, verdict="no_violation", reason_code="benign_context"
    )
    again = QueueItem.objects.create(
        tenant=acme, conversation=first.conversation, assessment=first.assessment,
        priority=0.9, rank=0.9, enqueued_at=timezone.now(),
    )  # fmt: skip
    queue_item_claim_next(tenant=acme, moderator=bob)
    decision_create(item=again, moderator=bob, verdict="ban", reason_code="grooming_indicators")

    html = signed_in(alice).get(f"/t/acme/items/{first.pk}").content.decode()

    assert '<dd id="decided-by">alice</dd>' in html
    assert 'id="decided-superseded">Since superseded: Ban the account by bob' in html
