"""The moderator's review page says what it did and what it refused: a refused note is named
beside Notes and a note the browser accepted is accepted, a skip says what became of the
item, and one UTC offset form on the whole page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils.html import escape

from review.decisions.forms import DecisionForm
from review.decisions.services import decision_create
from review.models import Assessment, Decision, Message, QueueStatus, Tenant
from review.queue.services import queue_item_claim_next
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db

# What the tester typed: 130 lines that a browser counts as 4,940 characters (a line break
# is one there), sent with CRLF line breaks (the form encoding), 5,069 characters.
LINES = ["x" * 37] * 130
TYPED = "\n".join(LINES)
SENT = "\r\n".join(LINES)


def _taken(acme: Tenant, alice: Any) -> tuple[Any, Any]:
    item = flagged_item(acme)
    client = signed_in(alice)
    assert client.post("/t/acme/next")["Location"] == f"/t/acme/items/{item.pk}"
    return client, item


def test_the_tester_s_note_is_within_the_browser_s_count_and_over_5000_as_sent() -> None:
    assert len(TYPED) < 5000 < len(SENT)


def test_a_note_the_browser_accepted_is_accepted_with_its_line_breaks(
    acme: Tenant, alice: Any
) -> None:
    client, item = _taken(acme, alice)

    response = client.post(
        f"/t/acme/items/{item.pk}/decide",
        {"verdict": "ban", "reason_code": "grooming_indicators", "notes": SENT},
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    decision = Decision.objects.get(queue_item=item)
    assert decision.notes == TYPED, "stored as the browser counted it: one LF per line break"


def test_a_note_over_the_limit_is_refused_beside_notes_and_kept(acme: Tenant, alice: Any) -> None:
    client, item = _taken(acme, alice)
    too_long = "\r\n".join(["x" * 99] * 51)  # 5,099 as the browser counts it

    response = client.post(
        f"/t/acme/items/{item.pk}/decide",
        {"verdict": "ban", "reason_code": "grooming_indicators", "notes": too_long},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-describedby="id_notes_error"' in page
    error = re.search(r'<ul class="errorlist" id="id_notes_error">(.*?)</ul>', page, re.S)
    assert error, "the element the textarea points to is on the page"
    assert "at most 5000 characters (it has 5099)" in error.group(1)
    assert page.index('id="id_notes_error"') > page.index('<label for="id_notes"'), "beside it"
    assert "x" * 99 in page, "what she typed is still there"
    assert not Decision.objects.exists()


@pytest.mark.parametrize("field", ["verdict", "reason_code", "notes"])
def test_every_field_s_error_of_the_decision_form_is_on_the_page(
    acme: Tenant, alice: Any, field: str
) -> None:
    client, item = _taken(acme, alice)
    # Each field wrong on its own: left out (verdict, reason) or too long (notes).
    data = {"verdict": "ban", "reason_code": "grooming_indicators"}
    data = {**data, "notes": "n" * 5001} if field == "notes" else data
    data = {k: v for k, v in data.items() if k != field or field == "notes"}
    form = DecisionForm(data)
    assert not form.is_valid()
    assert field in form.errors, form.errors

    page = client.post(f"/t/acme/items/{item.pk}/decide", data).content.decode()

    assert f'id="id_{field}_error"' in page
    for message in form.errors[field]:
        assert escape(message) in page, message


def test_the_supervisor_s_hidden_field_s_error_is_shown_too(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    item = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=alice)
    decision_create(
        item=item, moderator=alice, verdict="ask_supervisor", reason_code="second_opinion"
    )

    response = signed_in(sam).post(
        f"/t/acme/supervision/conversations/{item.conversation_id}/decide",
        {"verdict": "ban", "reason_code": "grooming_indicators", "supersedes": "not a number"},
    )

    assert response.status_code == 400
    assert 'id="id_supersedes_error"' in response.content.decode()


def test_a_skip_says_the_item_went_back_to_the_queue(acme: Tenant, alice: Any) -> None:
    client, item = _taken(acme, alice)

    response = client.post(f"/t/acme/items/{item.pk}/release", follow=True)

    assert response.redirect_chain[-1][0] == "/t/acme/queue"
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1, shown
    assert shown[0].startswith("Skipped c-0: it is back in the queue for the other moderators")
    assert shown[0] in response.content.decode()
    item.refresh_from_db()
    assert item.status == QueueStatus.WAITING


def test_a_refused_skip_says_why_and_not_that_it_was_skipped(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    _, item = _taken(acme, alice)

    response = signed_in(bob).post(f"/t/acme/items/{item.pk}/release", follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1, shown
    assert "Skipped" not in shown[0], shown


def test_a_second_review_skip_says_it_went_back_for_someone_else(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    acme.second_review_share = 1.0
    acme.save()
    item = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=alice)
    decision_create(item=item, moderator=alice, verdict="ban", reason_code="grooming_indicators")
    client = signed_in(bob)
    opened = client.post("/t/acme/second-reviews/next")["Location"]

    response = client.post(f"{opened}/release", follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1, shown
    assert shown[0].startswith("Skipped the second review of c-0"), shown


def test_the_page_writes_every_utc_offset_as_utc_minus_07_00(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme)
    Message.objects.filter(conversation=item.conversation).update(
        sent_at=datetime(2026, 11, 1, 17, 0, tzinfo=UTC), utc_offset_minutes=-420
    )
    # As the scoring engine writes its factors (a datetime's %z).
    Assessment.objects.filter(pk=item.assessment_id).update(
        factors=[
            "Secrecy request in 1 message from adult-0, first at 10:00 on 01 Nov (UTC-0700)",
            "Declared ages 13 and 40",
        ]
    )
    page = signed_in(alice).get(f"/t/acme/items/{item.pk}").content.decode()

    assert "(UTC-07:00) · 17:00 UTC" in page, "the transcript"
    assert "first at 10:00 on 01 Nov (UTC-07:00)" in page, "why it was flagged"
    assert not re.search(r"UTC[+-]\d{4}", page), re.findall(r".{40}UTC[+-]\d{4}.{5}", page)


def test_a_decision_sent_twice_is_recorded_once_and_says_so(acme: Tenant, alice: Any) -> None:
    client, item = _taken(acme, alice)
    form = {"verdict": "warn", "reason_code": "grooming_indicators"}
    assert client.post(f"/t/acme/items/{item.pk}/decide", form).status_code == 302

    # The back button, or a second click that arrived after the first.
    again = client.post(f"/t/acme/items/{item.pk}/decide", form, follow=True)

    assert Decision.objects.filter(queue_item=item).count() == 1
    page = again.content.decode()
    assert f"You already decided {item.conversation.external_id}: Warn the account, at " in page
    assert "not leased to you" not in page


def test_a_decision_by_someone_not_holding_the_item_keeps_his_input_but_not_her_lease(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    _, item = _taken(acme, alice)

    refused = signed_in(bob).post(
        f"/t/acme/items/{item.pk}/decide",
        {"verdict": "no_violation", "reason_code": "benign_context", "notes": "bob's reading"},
    )

    assert refused.status_code == 409
    page = refused.content.decode()
    assert "this item is not leased to you" in page
    assert "bob&#x27;s reading</textarea>" in page, "what he typed is still there"
    # Alice's lease is not shown to bob as if it were his, nor offered to him to renew.
    assert "data-lease-renew" not in page
    assert "min</strong> left" not in page
    assert not Decision.objects.filter(queue_item=item).exists()
