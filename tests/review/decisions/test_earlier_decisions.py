"""The review page's "earlier decisions": shown for the participant an earlier decision was
about (the adult the model held responsible), never for the child in that conversation."""

from __future__ import annotations

from typing import Any

import pytest

from review.decisions.selectors import decision_concerns
from review.models import Assessment, Decision, Participant, QueueItem, Tenant
from scoring.engine import suspects_ranked
from tests.review.supervision_support import decide
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db


def _scored(decision: Decision, **scores: float) -> None:
    Assessment.objects.filter(pk=decision.queue_item.assessment_id).update(suspect_scores=scores)


def _again_with(tenant: Tenant, *people: Participant) -> QueueItem:
    """A new flagged conversation in which the same people meet again."""
    item = flagged_item(tenant, 900)
    item.conversation.participants.add(*people)
    return item


def _line(page: str, external_id: str) -> str:
    """The participant's entry on the review page."""
    return page.split(f"<code>{external_id}</code>")[1].split("</li>")[0]


def test_an_earlier_ban_is_shown_for_the_adult_it_was_about_not_for_the_child(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    first = decide(acme, alice, "ban", "grooming_indicators")
    adult = first.conversation.participants.get(external_id__startswith="adult")
    child = first.conversation.participants.get(external_id__startswith="kid")
    _scored(first, **{adult.external_id: 0.91, child.external_id: 0.12})
    item = _again_with(acme, adult, child)
    client = signed_in(bob)
    client.post("/t/acme/next")

    page = client.get(f"/t/acme/items/{item.pk}").content.decode()

    assert "earlier decisions: Ban" in _line(page, adult.external_id)
    assert "earlier decisions" not in _line(page, child.external_id)


def test_a_child_declared_under_18_is_never_the_one_a_decision_was_about(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    first = decide(acme, alice, "ban", "grooming_indicators")
    adult = first.conversation.participants.get(external_id__startswith="adult")
    child = first.conversation.participants.get(external_id__startswith="kid")
    assert child.declared_age == 13
    # The model scored the child's own messages higher (she repeated what he asked).
    _scored(first, **{adult.external_id: 0.4, child.external_id: 0.8})
    item = _again_with(acme, child)
    client = signed_in(bob)
    client.post("/t/acme/next")

    page = client.get(f"/t/acme/items/{item.pk}").content.decode()

    assert "earlier decisions" not in _line(page, child.external_id)


def concerns(
    scores: dict[str, float],
    members: list[tuple[int, str, int | None]],
    evidence: dict[str, float] | None = None,
) -> set[int]:
    """decision_concerns of an assessment with these suspect scores and own evidence."""
    return decision_concerns(suspects_ranked(scores, evidence or {}), members)


def test_a_decision_is_about_the_most_responsible_adult_or_about_nobody() -> None:
    members = [(1, "kid", 13), (2, "jay", None), (3, "lee", 30)]

    assert concerns({"kid": 0.9, "jay": 0.7, "lee": 0.2}, members) == {2}
    assert concerns({"kid": 0.9, "jay": 0.0, "lee": 0.0}, members) == set()
    assert concerns({}, members) == set(), "no scores: it cannot say, so it names no one"


def test_what_a_participant_wrote_ranks_before_their_suspect_score() -> None:
    members = [(1, "kid", None), (2, "jay", None)]

    # The child's replies rated as high, but the adult's own messages hold the evidence.
    assert concerns({"kid": 0.9, "jay": 0.85}, members, {"kid": 0.7, "jay": 3.1}) == {2}
    # No evidence recorded (an older assessment): the suspect score decides, as before.
    assert concerns({"kid": 0.9, "jay": 0.85}, members, {}) == {1}
    # A clear difference in the score is not overturned by evidence.
    assert concerns({"kid": 0.9, "jay": 0.3}, members, {"kid": 0.7, "jay": 3.1}) == {1}
    # Evidence alone is being held responsible.
    assert concerns({}, members, {"jay": 0.8}) == {2}
    # A participant declared under 18 is never the one, whatever they wrote.
    declared = [(1, "kid", 13), (2, "jay", None)]
    assert concerns({"kid": 0.9, "jay": 0.6}, declared, {"kid": 4.0, "jay": 1.0}) == {2}
