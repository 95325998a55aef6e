"""Blind second reviews and the supervisors' inbox (questions and disagreements)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from review.decisions import selectors
from review.decisions.second_review import (
    second_review_claim_next,
    second_review_record,
    second_review_sampled,
)
from review.decisions.services import decision_create
from review.models import (
    Assessment,
    AuditEvent,
    ConversationStatus,
    Decision,
    Message,
    QueueItem,
    Resolution,
    SecondReview,
    SecondReviewStatus,
    Tenant,
)
from review.queue.services import queue_item_claim_next
from tests.review.supervision_support import decide, member, sample_every_decision
from tests.review_support import signed_in
from tests.threads import Threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def sampled(acme: Tenant) -> Tenant:
    """Acme with every decision sampled, so a test knows which ones are."""
    sample_every_decision(acme)
    return acme


def bob_reviews(acme: Tenant, bob: Any, verdict: str, reason_code: str) -> SecondReview:
    review = second_review_claim_next(tenant=acme, reviewer=bob)
    assert review is not None
    return second_review_record(
        review=review, reviewer=bob, verdict=verdict, reason_code=reason_code
    )


# --- sampling -------------------------------------------------------------------------------


def test_the_sample_is_deterministic_and_close_to_the_configured_share() -> None:
    ids = range(1, 20_001)

    tenth = [second_review_sampled(tenant_id=7, decision_id=i, share=0.1) for i in ids]
    again = [second_review_sampled(tenant_id=7, decision_id=i, share=0.1) for i in ids]

    assert tenth == again, "the same decision always gets the same answer"
    assert 0.09 < sum(tenth) / len(tenth) < 0.11
    assert not any(second_review_sampled(tenant_id=7, decision_id=i, share=0.0) for i in ids)
    assert all(second_review_sampled(tenant_id=7, decision_id=i, share=1.0) for i in ids)
    # A larger share keeps every decision a smaller one sampled (thresholds on one hash).
    quarter = [second_review_sampled(tenant_id=7, decision_id=i, share=0.25) for i in ids]
    assert all(q for t, q in zip(tenth, quarter, strict=True) if t)
    other_tenant = [second_review_sampled(tenant_id=8, decision_id=i, share=0.1) for i in ids]
    assert other_tenant != tenth, "tenants are sampled independently"


def test_a_sampled_decision_creates_a_waiting_second_review(sampled: Tenant, alice: Any) -> None:
    decision = decide(sampled, alice)

    review = SecondReview.objects.get(decision=decision)
    assert (review.status, review.tenant, review.conversation) == (
        SecondReviewStatus.WAITING,
        sampled,
        decision.conversation,
    )


def test_with_a_share_of_zero_no_decision_is_sampled(acme: Tenant, alice: Any) -> None:
    Tenant.objects.filter(pk=acme.pk).update(second_review_share=0.0)

    decide(acme, alice)

    assert not SecondReview.objects.exists()


def test_a_question_for_a_supervisor_is_not_sampled(sampled: Tenant, alice: Any) -> None:
    decide(sampled, alice, "ask_supervisor", "second_opinion")

    assert not SecondReview.objects.exists()


# --- who gets it ----------------------------------------------------------------------------


def test_the_first_decider_never_gets_their_own_second_review(
    sampled: Tenant, alice: Any, bob: Any
) -> None:
    decision = decide(sampled, alice)
    client = signed_in(alice)

    listing = client.get("/t/acme/second-reviews").content.decode()
    taken = client.post("/t/acme/second-reviews/next", follow=True).content.decode()

    assert "<strong>0</strong> second reviews waiting for you" in listing
    assert "No second review is waiting for you." in taken
    assert second_review_claim_next(tenant=sampled, reviewer=alice) is None
    assert second_review_claim_next(tenant=sampled, reviewer=bob).decision == decision


def test_a_second_review_is_leased_to_one_reviewer_at_a_time(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    decide(sampled, alice)
    held = second_review_claim_next(tenant=sampled, reviewer=bob)

    assert second_review_claim_next(tenant=sampled, reviewer=sam) is None
    assert second_review_claim_next(tenant=sampled, reviewer=bob) == held, "bob keeps his lease"
    SecondReview.objects.filter(pk=held.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert second_review_claim_next(tenant=sampled, reviewer=sam) == held, "a lapsed lease moves"


def test_only_the_lease_holder_can_record_a_second_review(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    decide(sampled, alice)
    review = second_review_claim_next(tenant=sampled, reviewer=bob)

    response = signed_in(sam).post(
        f"/t/acme/second-reviews/{review.pk}/record",
        {"verdict": "no_violation", "reason_code": "benign_context"},
    )
    page = signed_in(sam).get(f"/t/acme/second-reviews/{review.pk}", follow=True)

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == SecondReviewStatus.CLAIMED
    assert "not leased to you" in page.content.decode()
    assert "dont tell" not in page.content.decode(), "no transcript for someone else's lease"


# --- blind ----------------------------------------------------------------------------------


def test_the_second_reviewer_sees_highlights_but_not_the_first_verdict_reason_or_notes(
    sampled: Tenant, alice: Any, bob: Any
) -> None:
    decision = decide(sampled, alice, "suspend", "sextortion", notes="first-moderator-note-17")
    client = signed_in(bob)

    taken = client.post("/t/acme/second-reviews/next")
    page = client.get(taken["Location"]).content.decode()

    assert taken["Location"] == f"/t/acme/second-reviews/{decision.second_review.pk}"
    assert '<mark class="c-secrecy_request"' in page
    assert "Blind second review" in page
    assert "first-moderator-note-17" not in page
    assert "alice" not in page, "nor who decided"
    assert " checked" not in page, "no verdict is pre-chosen"
    assert 'value="sextortion" selected' not in page
    assert 'value="ask_supervisor"' not in page, "a second reviewer commits to a verdict"
    assert AuditEvent.objects.filter(
        tenant=sampled, actor=bob, action="view", detail__second_review=decision.second_review.pk
    ).exists()


def test_the_second_reviewer_sees_the_conversation_as_it_stood_at_the_decision(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    decision = decide(sampled, alice)
    Message.objects.create(
        conversation=decision.conversation, external_id="m-later",
        sender=decision.conversation.participants.first(), sent_at=timezone.now(),
        utc_offset_minutes=0, text="a message that arrived after the decision", position=99,
    )  # fmt: skip
    client = signed_in(bob)
    client.post("/t/acme/second-reviews/next")

    blind = client.get(f"/t/acme/second-reviews/{decision.second_review.pk}").content.decode()
    supervisor = signed_in(sam).get(f"/t/acme/supervision/conversations/{decision.conversation_id}")

    assert "arrived after the decision" not in blind
    assert "3 messages" in blind
    assert "arrived after the decision" in supervisor.content.decode()


def test_a_hidden_message_revealed_on_the_second_review_page_comes_back_to_it(
    sampled: Tenant, alice: Any, bob: Any
) -> None:
    decision = decide(sampled, alice)
    client = signed_in(bob)
    client.post("/t/acme/second-reviews/next")
    hidden = Message.objects.get(conversation=decision.conversation, external_id="m2")
    page = f"/t/acme/second-reviews/{decision.second_review.pk}"

    response = client.post(
        f"/t/acme/items/{decision.queue_item_id}/messages/{hidden.pk}/reveal", {"next": page}
    )

    assert response["Location"] == f"{page}#msg-{hidden.pk}"
    assert ">send me a pi</mark>c<" in client.get(page).content.decode()
    assert AuditEvent.objects.filter(tenant=sampled, actor=bob, action="reveal").exists()


# --- recording ------------------------------------------------------------------------------


def test_a_second_review_is_recorded_compared_and_audited_without_touching_the_decision(
    sampled: Tenant, alice: Any, bob: Any
) -> None:
    decision = decide(sampled, alice, "ban", "grooming_indicators")
    client = signed_in(bob)
    client.post("/t/acme/second-reviews/next")
    review = decision.second_review

    response = client.post(
        f"/t/acme/second-reviews/{review.pk}/record",
        {"verdict": "warn", "reason_code": "grooming_indicators", "notes": "borderline"},
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.status, review.reviewer, review.verdict, review.agrees) == (
        SecondReviewStatus.DONE,
        bob,
        "warn",
        False,
    )
    assert review.completed_at is not None
    decision.refresh_from_db()
    assert decision.verdict == "ban", "a second review never changes the first decision"
    assert not Decision.objects.filter(supersedes=decision).exists()
    event = AuditEvent.objects.get(tenant=sampled, action="second_review")
    assert event.actor == bob
    assert event.detail == {
        "decision": decision.pk,
        "conversation": decision.conversation_id,
        "verdict": "warn",
        "reason_code": "grooming_indicators",
        "agrees": False,
        "has_notes": True,
    }
    follow = client.get(response["Location"]).content.decode()
    assert "Supervisors see any difference" in follow
    assert "Ban the account" not in follow, "blind both ways: no verdict comparison shown"


def test_a_second_review_needs_a_reason_that_fits_its_verdict(
    sampled: Tenant, alice: Any, bob: Any
) -> None:
    decision = decide(sampled, alice)
    client = signed_in(bob)
    client.post("/t/acme/second-reviews/next")
    url = f"/t/acme/second-reviews/{decision.second_review.pk}/record"

    wrong = client.post(url, {"verdict": "ban", "reason_code": "benign_context"})
    asking = client.post(url, {"verdict": "ask_supervisor", "reason_code": "second_opinion"})

    assert wrong.status_code == asking.status_code == 400
    assert "does not go with" in wrong.content.decode()
    assert SecondReview.objects.get(pk=decision.second_review.pk).status == "claimed"


def test_recording_takes_the_next_second_review_from_the_keyboard_flow(
    sampled: Tenant, alice: Any, bob: Any
) -> None:
    first, second = decide(sampled, alice), decide(sampled, alice)
    client = signed_in(bob)
    client.post("/t/acme/second-reviews/next")

    response = client.post(
        f"/t/acme/second-reviews/{first.second_review.pk}/record",
        {"verdict": "ban", "reason_code": "grooming_indicators", "then": "next"},
    )

    assert response["Location"] == f"/t/acme/second-reviews/{second.second_review.pk}"


def test_skipping_a_second_review_gives_it_back(sampled: Tenant, alice: Any, bob: Any) -> None:
    decision = decide(sampled, alice)
    client = signed_in(bob)
    client.post("/t/acme/second-reviews/next")

    client.post(f"/t/acme/second-reviews/{decision.second_review.pk}/release")

    review = SecondReview.objects.get(pk=decision.second_review.pk)
    assert (review.status, review.claimed_by) == (SecondReviewStatus.WAITING, None)
    assert AuditEvent.objects.filter(
        tenant=sampled, action="release", target_type="second_review"
    ).exists()


# --- supervisors: disagreements and questions -----------------------------------------------


def test_a_disagreement_reaches_the_supervisor_inbox_and_an_agreement_does_not(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    agreed = decide(sampled, alice, "ban", "grooming_indicators")
    disputed = decide(sampled, alice, "warn", "grooming_indicators")
    bob_reviews(sampled, bob, "ban", "grooming_indicators")
    bob_reviews(sampled, bob, "no_violation", "benign_context")

    page = signed_in(sam).get("/t/acme/supervision/inbox").content.decode()

    assert disputed.conversation.external_id in page
    assert agreed.conversation.external_id not in page
    assert "No violation" in page
    assert "Warn the account" in page
    assert AuditEvent.objects.filter(tenant=sampled, actor=sam, action="report_view").exists()


def test_a_supervisor_upholds_a_disagreement_and_nothing_changes(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    decision = decide(sampled, alice, "warn", "grooming_indicators")
    review = bob_reviews(sampled, bob, "no_violation", "benign_context")
    client = signed_in(sam)

    detail = client.get(f"/t/acme/supervision/conversations/{decision.conversation_id}")
    response = client.post(f"/t/acme/supervision/second-reviews/{review.pk}/uphold")

    assert "disagrees" in detail.content.decode(), "the supervisor sees both verdicts"
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.resolution, review.resolved_by) == (Resolution.UPHELD, sam)
    assert not Decision.objects.filter(supersedes=decision).exists()
    assert (
        decision.conversation.external_id
        not in client.get("/t/acme/supervision/inbox")
        .content.decode()
        .split('id="disagreements"')[1]
    )
    assert AuditEvent.objects.filter(tenant=sampled, actor=sam, action="resolve").exists()
    again = client.post(f"/t/acme/supervision/second-reviews/{review.pk}/uphold", follow=True)
    assert "already resolved" in again.content.decode()


def test_a_supervisor_overturns_a_disagreement_with_a_decision_that_supersedes_the_first(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    decision = decide(sampled, alice, "warn", "grooming_indicators")
    review = bob_reviews(sampled, bob, "no_violation", "benign_context")

    response = signed_in(sam).post(
        f"/t/acme/supervision/conversations/{decision.conversation_id}/decide",
        {"supersedes": decision.pk, "verdict": "no_violation", "reason_code": "benign_context"},
    )

    assert response.status_code == 302
    answer = Decision.objects.get(supersedes=decision)
    assert (answer.moderator, answer.verdict, answer.queue_item) == (
        sam,
        "no_violation",
        decision.queue_item,
    )
    review.refresh_from_db()
    assert (review.resolution, review.resolution_decision) == (Resolution.OVERTURNED, answer)
    decision.refresh_from_db()
    assert decision.verdict == "warn", "the first decision is kept as it was"
    assert not SecondReview.objects.filter(decision=answer).exists(), "answers are not sampled"
    event = AuditEvent.objects.get(tenant=sampled, actor=sam, action="decision")
    assert event.detail["supersedes"] == decision.pk
    assert event.detail["by_supervisor"] is True


def test_a_supervisor_answers_a_question_from_the_inbox(acme: Tenant, alice: Any, sam: Any) -> None:
    question = decide(acme, alice, "ask_supervisor", "second_opinion", notes="not sure")
    plain = decide(acme, alice, "ban", "grooming_indicators")
    client = signed_in(sam)

    inbox = client.get("/t/acme/supervision/inbox").content.decode()
    url = f"/t/acme/supervision/conversations/{question.conversation_id}"
    page = client.get(url).content.decode()
    response = client.post(
        f"{url}/decide",
        {"supersedes": question.pk, "verdict": "suspend", "reason_code": "grooming_indicators"},
    )

    questions = inbox.split('id="questions"')[1].split('id="disagreements"')[0]
    assert question.conversation.external_id in questions
    assert plain.conversation.external_id not in questions
    assert '<mark class="c-secrecy_request"' in page
    assert "not sure" in page, "the supervisor reads the moderator's notes"
    assert response.status_code == 302
    answer = Decision.objects.get(supersedes=question)
    assert (answer.verdict, answer.moderator) == ("suspend", sam)
    question.conversation.refresh_from_db()
    assert question.conversation.status == ConversationStatus.REVIEWED
    after = client.get("/t/acme/supervision/inbox").content.decode()
    assert "No open questions." in after
    assert AuditEvent.objects.filter(
        tenant=acme, actor=sam, action="view", target_id=str(question.conversation_id)
    ).exists()


def test_a_supervisor_cannot_supersede_a_decision_they_were_not_shown(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    question = decide(acme, alice, "ask_supervisor", "second_opinion")
    url = f"/t/acme/supervision/conversations/{question.conversation_id}/decide"
    client = signed_in(sam)
    client.post(url, {"supersedes": question.pk, "verdict": "ban", "reason_code": "sextortion"})

    stale = client.post(
        url,
        {"supersedes": question.pk, "verdict": "no_violation", "reason_code": "benign_context"},
        follow=True,
    )

    assert "decided on this conversation in the meantime" in stale.content.decode()
    assert Decision.objects.filter(conversation=question.conversation).count() == 2


def test_a_supervisor_cannot_answer_by_asking_a_supervisor(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    question = decide(acme, alice, "ask_supervisor", "second_opinion")

    response = signed_in(sam).post(
        f"/t/acme/supervision/conversations/{question.conversation_id}/decide",
        {"supersedes": question.pk, "verdict": "ask_supervisor", "reason_code": "second_opinion"},
    )

    assert response.status_code == 400
    assert Decision.objects.count() == 1


# --- access ---------------------------------------------------------------------------------


def test_moderators_get_403_on_the_supervisor_pages(sampled: Tenant, alice: Any, bob: Any) -> None:
    decision = decide(sampled, alice)
    review = bob_reviews(sampled, bob, "warn", "grooming_indicators")
    client = signed_in(bob)
    base = "/t/acme/supervision"

    assert client.get(f"{base}/inbox").status_code == 403
    assert client.get(f"{base}/agreement").status_code == 403
    assert client.get(f"{base}/agreement?format=csv").status_code == 403
    assert client.get(f"{base}/conversations/{decision.conversation_id}").status_code == 403
    assert (
        client.post(
            f"{base}/conversations/{decision.conversation_id}/decide",
            {"supersedes": decision.pk, "verdict": "no_violation", "reason_code": "benign_context"},
        ).status_code
        == 403
    )
    assert client.post(f"{base}/second-reviews/{review.pk}/uphold").status_code == 403
    assert Decision.objects.count() == 1


def test_the_navigation_shows_supervisor_pages_to_supervisors_only(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    moderator = signed_in(alice).get("/t/acme/queue").content.decode()
    supervisor = signed_in(sam).get("/t/acme/queue").content.decode()

    assert 'href="/t/acme/second-reviews"' in moderator
    assert 'href="/t/acme/supervision/inbox"' not in moderator
    assert 'href="/t/acme/supervision/inbox"' in supervisor
    assert 'href="/t/acme/supervision/agreement"' in supervisor


def test_another_tenants_second_reviews_and_conversations_answer_404(
    acme: Tenant, globex: Tenant, bob: Any, sam: Any
) -> None:
    sample_every_decision(globex)
    gus = member(globex, "gus")
    theirs = decide(globex, gus)
    review = theirs.second_review
    moderator, supervisor = signed_in(bob), signed_in(sam)

    assert moderator.get(f"/t/acme/second-reviews/{review.pk}").status_code == 404
    assert moderator.post(f"/t/acme/second-reviews/{review.pk}/record").status_code == 404
    assert moderator.post(f"/t/acme/second-reviews/{review.pk}/release").status_code == 404
    assert supervisor.get("/t/globex/supervision/inbox").status_code == 404
    conversation = f"/t/acme/supervision/conversations/{theirs.conversation_id}"
    assert supervisor.get(conversation).status_code == 404
    assert (
        supervisor.post(
            f"{conversation}/decide",
            {"supersedes": theirs.pk, "verdict": "no_violation", "reason_code": "benign_context"},
        ).status_code
        == 404
    )
    assert (
        supervisor.post(f"/t/acme/supervision/second-reviews/{review.pk}/uphold").status_code == 404
    )
    assert second_review_claim_next(tenant=acme, reviewer=bob) is None


def test_a_supervisor_cannot_supersede_another_tenants_decision_through_their_own_conversation(
    acme: Tenant, globex: Tenant, alice: Any, sam: Any
) -> None:
    ours = decide(acme, alice, "ask_supervisor", "second_opinion")
    theirs = decide(globex, member(globex, "gus"), "ask_supervisor", "second_opinion")

    response = signed_in(sam).post(
        f"/t/acme/supervision/conversations/{ours.conversation_id}/decide",
        {"supersedes": theirs.pk, "verdict": "no_violation", "reason_code": "benign_context"},
    )

    assert response.status_code == 404
    assert not Decision.objects.filter(supersedes=theirs).exists()


def test_the_queue_page_says_what_else_waits(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    decide(sampled, alice, "ask_supervisor", "second_opinion")
    decide(sampled, alice, "warn", "grooming_indicators")

    for_alice = signed_in(alice).get("/t/acme/queue").content.decode()
    for_bob = signed_in(bob).get("/t/acme/queue").content.decode()
    for_sam = " ".join(signed_in(sam).get("/t/acme/queue").content.decode().split())

    assert "second review" not in for_alice.split("<main>")[1], "nothing for the decider"
    assert "1 second review waiting for you" in for_bob
    assert "Inbox" not in for_bob.split("<main>")[1]
    assert "Inbox: 1 question, 0 disagreements" in for_sam


def test_a_second_review_counts_in_the_reviewers_exposure(
    sampled: Tenant, alice: Any, bob: Any
) -> None:
    decide(sampled, alice)
    bob_reviews(sampled, bob, "ban", "grooming_indicators")

    assert selectors.moderator_exposure(tenant=sampled, moderator=bob).items == 1


def test_the_lease_on_a_second_review_is_renewed_only_for_its_holder(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    decision = decide(sampled, alice)
    signed_in(bob).post("/t/acme/second-reviews/next")
    url = f"/t/acme/second-reviews/{decision.second_review.pk}/renew"

    assert signed_in(bob).post(url).status_code == 204
    assert signed_in(sam).post(url).status_code == 409


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_reviewers_get_each_second_review_exactly_once(acme: Tenant) -> None:
    sample_every_decision(acme)
    deciders = [member(acme, f"decider{n}") for n in range(2)]
    expected = {decide(acme, deciders[n % 2]).second_review.pk for n in range(40)}
    reviewers = [member(acme, f"reviewer{n}") for n in range(6)]
    taken: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(reviewers))

    def reviewer(user: Any) -> None:
        start.wait()
        while (review := second_review_claim_next(tenant=acme, reviewer=user)) is not None:
            with lock:
                taken.append(review.pk)
            second_review_record(
                review=review, reviewer=user, verdict="ban", reason_code="grooming_indicators"
            )

    threads = Threads()
    for user in reviewers:
        threads.start(reviewer, user)
    threads.join()

    assert threads.errors == []
    assert sorted(taken) == sorted(expected), "each once, none lost"


def test_the_second_reviewer_does_not_see_decisions_made_after_the_first_one(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    first = decide(sampled, alice, "warn", "grooming_indicators")
    later = decide(sampled, sam, "escalate_law_enforcement", "grooming_indicators")
    # The same adult turns up in the later conversation.
    adult = first.conversation.participants.get(external_id__startswith="adult")
    later.conversation.participants.add(adult)
    client = signed_in(bob)
    client.post("/t/acme/second-reviews/next")

    page = client.get(f"/t/acme/second-reviews/{first.second_review.pk}").content.decode()

    assert "earlier decisions" not in page, "the first decider could not have known it"


def test_nobody_who_decided_on_the_conversation_gets_its_second_review(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    Tenant.objects.filter(pk=acme.pk).update(second_review_share=0.0)
    earlier = decide(acme, bob, "no_violation", "benign_context")
    sample_every_decision(acme)
    item = QueueItem.objects.create(
        tenant=acme, conversation=earlier.conversation, assessment=earlier.queue_item.assessment,
        priority=0.9, rank=0.9, enqueued_at=timezone.now(),
    )  # fmt: skip
    queue_item_claim_next(tenant=acme, moderator=alice)
    later = decision_create(
        item=item, moderator=alice, verdict="ban", reason_code="grooming_indicators"
    )

    assert second_review_claim_next(tenant=acme, reviewer=bob) is None, "bob decided it before"
    assert second_review_claim_next(tenant=acme, reviewer=sam).decision == later


def test_a_supervisor_who_escalates_a_question_lands_on_the_new_case(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    question = decide(acme, alice, "ask_supervisor", "second_opinion")
    url = f"/t/acme/supervision/conversations/{question.conversation_id}/decide"

    response = signed_in(sam).post(
        url,
        {"supersedes": question.pk, "verdict": "escalate_ncmec", "reason_code": "meeting_planned"},
    )

    answer = Decision.objects.get(supersedes=question)
    assert (answer.case.author, answer.case.status) == (sam, "draft")
    assert response["Location"] == f"/t/acme/cases/{answer.case.pk}"


def test_a_moderator_who_could_be_handed_the_second_review_reads_the_first_verdict_nowhere(
    sampled: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    decision = decide(sampled, alice, "suspend", "sextortion")
    conversation = decision.conversation
    adult = conversation.participants.get(external_id__startswith="adult-")
    # The model held the adult responsible, so the decision is about him (earlier decisions).
    Assessment.objects.filter(pk=decision.queue_item.assessment_id).update(
        suspect_scores={adult.external_id: 0.9}
    )
    elsewhere = decide(sampled, sam).conversation  # another conversation, for the side panel
    bob_client = signed_in(bob)
    bob_client.post("/t/acme/second-reviews/next")  # held: he may open the participant page
    pages = {
        "item": f"/t/acme/items/{decision.queue_item_id}",
        "search": f"/t/acme/search?q={conversation.external_id}",
        "participant": f"/t/acme/participants/{adult.pk}",
    }

    def shown(client: Any) -> dict[str, bool]:
        seen = {}
        for name, url in pages.items():
            response = client.get(url)
            assert response.status_code == 200, f"{name}: {response.status_code}"
            page = response.content.decode()
            if name == "item":  # its decision form lists every verdict and reason
                seen[name] = 'id="decided-verdict"' in page
            else:
                seen[name] = "Suspend the account" in page or "Coercion or sextortion" in page
        return seen

    def earlier(user: Any) -> dict[int, list[Decision]]:
        return selectors.decisions_about_participants(
            tenant=sampled,
            membership=user.memberships.get(tenant=sampled),
            participants=[adult],
            exclude_conversation=elsewhere,
        )

    assert shown(bob_client) == {"item": False, "search": False, "participant": False}
    assert earlier(bob) == {}
    assert shown(signed_in(sam)) == {"item": True, "search": True, "participant": True}
    assert earlier(alice) == {adult.pk: [decision]}, "the decider still sees her own"

    review = second_review_claim_next(tenant=sampled, reviewer=bob)
    assert review is not None
    second_review_record(review=review, reviewer=bob, verdict="ban", reason_code="sextortion")

    assert shown(bob_client) == {"item": True, "search": True, "participant": True}
    assert earlier(bob) == {adult.pk: [decision]}
