"""The moderator console: taking items, reviewing, revealing, deciding; supervisors' log."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from review import tasks
from review.decisions import selectors
from review.decisions.services import decision_create
from review.models import (
    AuditEvent,
    Conversation,
    Decision,
    Message,
    QueueItem,
    QueueStatus,
    Role,
    Tenant,
)
from review.queue.services import queue_item_claim_next
from tests.factories import MembershipFactory
from tests.review_support import FORMULAS, PASSWORD, flagged_item, password_accepted, signed_in
from tests.threads import Threads

pytestmark = pytest.mark.django_db


def test_a_moderator_takes_the_next_item_reviews_it_and_decides(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme)
    client = signed_in(alice)

    taken = client.post("/t/acme/next")
    assert taken.status_code == 302
    assert taken["Location"] == f"/t/acme/items/{item.pk}"

    page = client.get(taken["Location"]).content.decode()
    assert '<mark class="c-secrecy_request"' in page
    assert ">dont tell yo</mark>ur mom we talk" in page
    assert "send me a pic" not in page, "a media request stays hidden until revealed"
    assert "Reveal" in page

    decided = client.post(
        f"/t/acme/items/{item.pk}/decide",
        {"verdict": "ban", "reason_code": "grooming_indicators", "notes": "clear pattern"},
    )
    assert decided.status_code == 302
    item.refresh_from_db()
    assert item.status == QueueStatus.DECIDED
    decision = Decision.objects.get(queue_item=item)
    assert (decision.verdict, decision.moderator) == ("ban", alice)
    actions = list(
        AuditEvent.objects.filter(tenant=acme).order_by("sequence").values_list("action", flat=True)
    )
    assert actions[-3:] == ["claim", "view", "decision"]
    queue = client.get("/t/acme/queue").content.decode()
    assert "Nothing waiting" in queue


def test_revealing_a_hidden_message_shows_it_and_is_audited(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme)
    client = signed_in(alice)
    client.post("/t/acme/next")
    hidden = Message.objects.get(conversation=item.conversation, external_id="m2")

    response = client.post(
        f"/t/acme/items/{item.pk}/messages/{hidden.pk}/reveal", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert ">send me a pi</mark>c<" in response.content.decode()
    assert AuditEvent.objects.filter(
        tenant=acme, action="reveal", target_id=str(hidden.pk)
    ).exists()


def test_a_moderators_exposure_counts_items_highlights_and_minutes_and_suggests_a_break(
    acme: Tenant, alice: Any, bob: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = flagged_item(acme, 1)
    flagged_item(acme, 2)
    client = signed_in(alice)
    client.post("/t/acme/next")
    client.get(f"/t/acme/items/{first.pk}")  # two highlighted messages
    client.post(
        f"/t/acme/items/{first.pk}/decide",
        {"verdict": "no_violation", "reason_code": "benign_context"},
    )
    signed_in(bob).post("/t/acme/next")  # someone else's work counts for them only

    exposure = selectors.moderator_exposure(tenant=acme, moderator=alice)

    assert (exposure.items, exposure.highlighted_seen, exposure.minutes) == (1, 2, 0)
    assert not exposure.suggest_break
    later = timezone.now() + timedelta(minutes=2)
    if later.date() != timezone.now().date():
        pytest.skip("two minutes from now is tomorrow: today's exposure starts again")
    settings.ARTEMIS_BREAK_AFTER_MINUTES = 1
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert selectors.moderator_exposure(tenant=acme, moderator=alice).suggest_break


def test_two_moderators_never_get_the_same_item(acme: Tenant, alice: Any, bob: Any) -> None:
    first, second = flagged_item(acme, 1, probability=0.9), flagged_item(acme, 2, probability=0.8)

    assert queue_item_claim_next(tenant=acme, moderator=alice) == first
    assert queue_item_claim_next(tenant=acme, moderator=bob) == second
    assert queue_item_claim_next(tenant=acme, moderator=bob) == second, "bob keeps his lease"


def test_an_expired_lease_returns_the_item_to_the_queue(acme: Tenant, alice: Any, bob: Any) -> None:
    item = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=alice)
    QueueItem.objects.filter(pk=item.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert queue_item_claim_next(tenant=acme, moderator=bob) == item


def test_a_moderator_cannot_decide_an_item_leased_to_another(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    item = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=alice)

    response = signed_in(bob).post(
        f"/t/acme/items/{item.pk}/decide",
        {"verdict": "no_violation", "reason_code": "benign_context", "notes": "bob's reading"},
    )

    assert response.status_code == 409
    assert not Decision.objects.exists()
    page = response.content.decode()
    assert "take it from the queue" in page
    assert "bob&#x27;s reading</textarea>" in page, "what he typed is still there"


def test_a_decision_needs_a_reason_that_fits_the_verdict(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme)
    client = signed_in(alice)
    client.post("/t/acme/next")

    missing = client.post(f"/t/acme/items/{item.pk}/decide", {"verdict": "ban"})
    wrong = client.post(
        f"/t/acme/items/{item.pk}/decide", {"verdict": "ban", "reason_code": "benign_context"}
    )

    assert missing.status_code == wrong.status_code == 400
    assert "every decision needs one" in missing.content.decode()
    assert "does not go with" in wrong.content.decode()
    assert not Decision.objects.exists()


def test_a_later_decision_supersedes_the_earlier_and_links_to_it(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    first_item = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=alice)
    first = decision_create(
        item=first_item, moderator=alice, verdict="no_violation", reason_code="benign_context"
    )
    again = QueueItem.objects.create(
        tenant=acme, conversation=first_item.conversation, assessment=first_item.assessment,
        priority=0.9, rank=0.9, enqueued_at=timezone.now(),
    )  # fmt: skip
    queue_item_claim_next(tenant=acme, moderator=bob)

    second = decision_create(
        item=again, moderator=bob, verdict="ban", reason_code="grooming_indicators"
    )

    assert second.supersedes == first
    first.refresh_from_db()
    assert first.verdict == "no_violation", "the earlier decision is kept as it was"


def test_skipping_gives_the_item_back(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme)
    client = signed_in(alice)
    client.post("/t/acme/next")

    client.post(f"/t/acme/items/{item.pk}/release")

    item.refresh_from_db()
    assert (item.status, item.claimed_by) == (QueueStatus.WAITING, None)
    assert AuditEvent.objects.filter(tenant=acme, action="release").exists()


def test_another_tenants_pages_and_items_answer_404(
    acme: Tenant, globex: Tenant, alice: Any
) -> None:
    theirs = flagged_item(globex)
    client = signed_in(alice)

    assert client.get("/t/globex/queue").status_code == 404
    assert client.get(f"/t/acme/items/{theirs.pk}").status_code == 404
    assert client.post(f"/t/acme/items/{theirs.pk}/decide", {"verdict": "ban"}).status_code == 404


def test_a_moderator_cannot_open_the_decision_log(acme: Tenant, alice: Any) -> None:
    assert signed_in(alice).get("/t/acme/decisions").status_code == 403


def test_a_supervisor_sees_and_exports_the_decision_log(acme: Tenant, alice: Any, sam: Any) -> None:
    item = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=alice)
    decision_create(item=item, moderator=alice, verdict="warn", reason_code="grooming_indicators")
    client = signed_in(sam)

    page = client.get("/t/acme/decisions")
    export = client.get("/t/acme/decisions?format=csv")

    assert "Warn the account" in page.content.decode()
    body = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.splitlines()[1].split(",")[1:5] == ["c-0", "alice", "warn", "grooming_indicators"]
    assert "dont tell" not in body
    assert AuditEvent.objects.filter(tenant=acme, action="export", actor=sam).exists()


@pytest.mark.parametrize("external_id", FORMULAS)
def test_the_decision_log_export_keeps_a_platform_id_from_running_as_a_formula(
    acme: Tenant, alice: Any, sam: Any, external_id: str
) -> None:
    item = flagged_item(acme)
    Conversation.objects.filter(pk=item.conversation_id).update(external_id=external_id)
    queue_item_claim_next(tenant=acme, moderator=alice)
    decision_create(item=item, moderator=alice, verdict="warn", reason_code="grooming_indicators")

    export = signed_in(sam).get("/t/acme/decisions?format=csv")

    body = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    [row] = csv.DictReader(io.StringIO(body))
    assert row["conversation"] == f"'{external_id}", "a leading apostrophe makes it text"
    assert (row["moderator"], row["verdict"], row["supersedes"]) == ("alice", "warn", "")
    assert row["decided_at"].startswith(str(timezone.now().year)), "dates stay as they are"


def test_the_decision_log_export_neutralises_a_username_that_starts_with_a_sign(
    acme: Tenant, sam: Any
) -> None:
    # Django's username rules allow "+", "-" and "@" anywhere, first character included.
    plus = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="+dave").user
    item = flagged_item(acme)
    queue_item_claim_next(tenant=acme, moderator=plus)
    decision_create(item=item, moderator=plus, verdict="ban", reason_code="grooming_indicators")

    export = signed_in(sam).get("/t/acme/decisions?format=csv&moderator=%2Bdave")

    body = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert [r["moderator"] for r in csv.DictReader(io.StringIO(body))] == ["'+dave"]


def test_pages_need_a_signed_in_user(acme: Tenant) -> None:
    response = Client().get("/t/acme/queue")

    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_the_queue_filters_by_characteristic_score_band_and_status(
    acme: Tenant, alice: Any
) -> None:
    flagged_item(acme, 1, probability=0.95)
    flagged_item(acme, 2, probability=0.75)
    plain = flagged_item(acme, 3, probability=0.6)
    plain.assessment.highlights = []
    plain.assessment.save()
    QueueItem.objects.filter(pk=plain.pk).update(characteristics="", characteristic_bits=0)
    queue_item_claim_next(tenant=acme, moderator=alice)  # takes the 0.95 one
    client = signed_in(alice)

    def shown(query: str) -> set[str]:
        page = client.get(f"/t/acme/queue?{query}").content.decode()
        return {c for c in ("c-1", "c-2", "c-3") if f">{c}<" in page}

    assert shown("") == {"c-1", "c-2", "c-3"}
    assert shown("characteristic=secrecy_request") == {"c-1", "c-2"}
    assert shown("band=high") == {"c-1"}
    assert shown("band=medium") == {"c-2"}
    assert shown("status=waiting") == {"c-2", "c-3"}
    assert shown("status=claimed&band=high") == {"c-1"}
    page = " ".join(client.get("/t/acme/queue").content.decode().split())
    assert "waiting 2 · claimed 1" in page
    assert "Secrecy request 2</a>" in page


def test_an_item_with_nothing_highlighted_says_why_it_is_in_the_queue(
    acme: Tenant, alice: Any
) -> None:
    # A tenant flagging from 0.40 queues a conversation held at 0.45 in which no message
    # reached even odds for a characteristic: the page must not look as if it lost them.
    Tenant.objects.filter(pk=acme.pk).update(flag_threshold=0.4)
    plain = flagged_item(acme, 3, probability=0.45)
    plain.assessment.highlights = []
    plain.assessment.save()
    marked = flagged_item(acme, 4, probability=0.9)
    client = signed_in(alice)

    quiet = client.get(f"/t/acme/items/{plain.pk}").content.decode()
    loud = client.get(f"/t/acme/items/{marked.pk}").content.decode()

    assert 'id="no-highlights"' in quiet
    assert "this tenant flags from 0.40" in quiet
    assert 'id="no-highlights"' not in loud


def test_the_queue_table_refreshes_itself_as_a_fragment(acme: Tenant, alice: Any) -> None:
    flagged_item(acme)
    client = signed_in(alice)

    full = client.get("/t/acme/queue").content.decode()
    fragment = client.get("/t/acme/queue", HTTP_HX_REQUEST="true").content.decode()

    assert 'hx-trigger="every 30s"' in full
    assert fragment.lstrip().startswith('<div id="queue-table"')
    assert "<html" not in fragment


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_parallel_claimers_over_200_items_get_each_item_exactly_once(acme: Tenant) -> None:
    moderators = [MembershipFactory(tenant=acme, role=Role.MODERATOR).user for _ in range(8)]
    items = {flagged_item(acme, n).pk for n in range(200)}
    claimed: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(moderators))

    def claimer(moderator: Any) -> None:
        start.wait()
        while True:
            item = queue_item_claim_next(tenant=acme, moderator=moderator)
            if item is None:
                return
            with lock:
                claimed.append(item.pk)
            # Decide at once so the next claim takes a new item, not the held lease.
            QueueItem.objects.filter(pk=item.pk).update(status=QueueStatus.DECIDED)

    threads = Threads()
    for moderator in moderators:
        threads.start(claimer, moderator)
    threads.join()

    assert threads.errors == []
    assert len(claimed) == len(set(claimed)), "no item was handed out twice"
    assert set(claimed) == items, "no item was lost"
    assert len(claimed) == 200


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks.score_conversations, "delay", lambda ids: None)


def test_calm_mode_turns_pages_grayscale_until_turned_off(acme: Tenant, alice: Any) -> None:
    client = signed_in(alice)

    client.post("/preferences/calm", {"next": "/t/acme/queue"})
    calm = client.get("/t/acme/queue").content.decode()
    client.post("/preferences/calm", {"next": "https://elsewhere.example/"})
    colour = client.get("/t/acme/queue").content.decode()

    assert 'class="calm"' in calm
    assert 'class="calm"' not in colour


def test_the_transcript_shows_the_senders_local_time_beside_utc(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme)
    Message.objects.filter(conversation=item.conversation).update(
        sent_at=datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    )
    client = signed_in(alice)
    client.post("/t/acme/next")

    page = client.get(f"/t/acme/items/{item.pk}").content.decode()

    # The sender was at UTC+01:00: 18:00 on their clock is 17:00 UTC.
    assert "Sun 1 Nov, 18:00" in page
    assert "(UTC+01:00) · 17:00 UTC" in page


def test_a_moderator_changes_their_password_in_the_console(alice: Any) -> None:
    client = signed_in(alice)

    form = client.get("/password")
    changed = client.post(
        "/password",
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer passphrase 42",
            "new_password2": "a much longer passphrase 42",
        },
    )

    assert form.status_code == 200
    assert "Change password" in form.content.decode()
    assert changed.status_code == 302
    assert password_accepted(Client(), "alice", "a much longer passphrase 42")


def test_every_queue_row_links_to_its_review_page(acme: Tenant, alice: Any) -> None:
    item = flagged_item(acme, 4)

    page = signed_in(alice).get("/t/acme/queue").content.decode()

    assert f'href="/t/acme/items/{item.pk}"' in page


def test_the_queue_says_what_makes_an_item_urgent_with_the_tenants_threshold(
    acme: Tenant, alice: Any
) -> None:
    # Not only the urgent characteristics: a probability past the threshold is urgent too,
    # and a queue of all-urgent items told a moderator nothing without saying so.
    Tenant.objects.filter(pk=acme.pk).update(urgent_threshold=0.85)
    flagged_item(acme)

    page = signed_in(alice).get("/t/acme/queue").content.decode()

    rule = page.split('id="urgent-rule">')[1].split("</span>")[0]
    assert rule == (
        "urgent: a planned meeting, a media request or coercion, or a probability of 0.85 or more"
    )
