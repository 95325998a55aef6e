"""Escalation cases: opened by an escalation, moved only along the lifecycle, approved by
four eyes, preserved for a year."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from review.cases.services import (
    case_approve,
    case_extend_preservation,
    case_is_held,
    case_lock,
    case_preserve,
    case_transition,
)
from review.decisions.services import decision_create
from review.models import (
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    ReviewError,
    Role,
    Tenant,
)
from review.queue.services import queue_item_claim_next
from tests.factories import MembershipFactory
from tests.review_support import flagged_item

pytestmark = pytest.mark.django_db


def escalate(tenant: Tenant, moderator: Any, verdict: str = "escalate_ncmec") -> Case:
    flagged_item(tenant)
    item = queue_item_claim_next(tenant=tenant, moderator=moderator)
    assert item is not None
    decision = decision_create(
        item=item, moderator=moderator, verdict=verdict, reason_code="grooming_indicators"
    )
    return decision.case


def escalated_without_ages(
    tenant: Tenant,
    moderator: Any,
    suspect_scores: dict[str, float],
    responsibility: dict[str, float] | None = None,
) -> Any:
    """The case of an escalated two-person chat in which no one declared an age, scored as
    given."""
    item = flagged_item(tenant)
    item.conversation.participants.filter(external_id="kid-0").update(declared_age=None)
    item.assessment.suspect_scores = suspect_scores
    item.assessment.responsibility = responsibility or {}
    item.assessment.save(update_fields=["suspect_scores", "responsibility"])
    claimed = queue_item_claim_next(tenant=tenant, moderator=moderator)
    assert claimed is not None
    return decision_create(
        item=claimed,
        moderator=moderator,
        verdict="escalate_ncmec",
        reason_code="grooming_indicators",
    ).case


def test_with_no_declared_ages_the_other_side_of_a_two_person_chat_is_the_child(
    acme: Tenant, alice: Any
) -> None:
    # Most platforms know no ages: the reported user is the one the model holds most
    # responsible, and the child is the one they talk with.
    case = escalated_without_ages(acme, alice, {"adult-0": 0.9, "kid-0": 0.01})

    assert case.reported_participant.external_id == "adult-0"
    assert case.victim_participant.external_id == "kid-0"
    assert case.victim_details["esp_identifier"] == "kid-0"
    assert case.victim_details["age"] is None


def test_the_case_reports_who_wrote_the_evidence_when_the_childs_replies_rate_higher(
    acme: Tenant, alice: Any
) -> None:
    # On real chat the child's replies to an offender can rate as high as his own windows
    # (they sit in windows of his messages); the evidence in his own messages decides.
    case = escalated_without_ages(
        acme, alice, {"adult-0": 0.85, "kid-0": 0.9}, {"adult-0": 2.6, "kid-0": 0.7}
    )

    assert case.reported_participant.external_id == "adult-0"
    assert case.victim_participant.external_id == "kid-0"


def test_an_escalation_opens_a_draft_case_prefilled_from_the_conversation(
    acme: Tenant, alice: Any
) -> None:
    case = escalate(acme, alice)

    assert (case.status, case.target, case.author) == (CaseStatus.DRAFT, "ncmec", alice)
    assert case.victim_participant.external_id == "kid-0"
    assert case.reported_participant.external_id == "adult-0"
    assert case.reported_details["esp_identifier"] == "adult-0"
    assert case.victim_details["age"] == 13
    # The first highlighted message (m1) starts the incident, with its offset.
    first_flagged = case.conversation.messages.get(external_id="m1")
    assert case.incident_at == first_flagged.sent_at
    assert case.incident_utc_offset_minutes == 60
    assert AuditEvent.objects.filter(action=AuditAction.CASE_OPEN, target_id=str(case.pk)).exists()


def test_a_law_enforcement_escalation_opens_a_referral_case(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice, verdict="escalate_law_enforcement")

    assert case.target == "law_enforcement"


def test_a_case_cannot_skip_approval(acme: Tenant, alice: Any) -> None:
    case = escalate(acme, alice)

    with pytest.raises(ReviewError, match="cannot become submitted to NCMEC"), transaction.atomic():
        case_transition(case=case_lock(case=case), to=CaseStatus.SUBMITTED, actor=alice)


def test_the_author_cannot_approve_their_own_case(acme: Tenant, sam: Any) -> None:
    case = escalate(acme, sam)
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=sam)

    with pytest.raises(ReviewError, match="four eyes"):
        case_approve(case=case, supervisor=sam)


def test_a_moderator_cannot_approve_a_case(acme: Tenant, alice: Any) -> None:
    bob = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="bob").user
    case = escalate(acme, alice)
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=alice)

    with pytest.raises(ReviewError, match="only a supervisor"):
        case_approve(case=case, supervisor=bob)


def test_another_supervisor_approves_and_preservation_runs_a_year(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = escalate(acme, alice)
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=alice)
    case = case_approve(case=case, supervisor=sam)
    case_transition(case=case, to=CaseStatus.SUBMITTED, actor=sam)
    case = case_preserve(case=case, actor=None, start=date(2026, 11, 25))

    assert (case.status, case.approved_by) == (CaseStatus.PRESERVED, sam)
    assert case.preserve_until == date(2027, 11, 25)
    assert case_is_held(case=case, today=date(2027, 11, 25))
    moves = AuditEvent.objects.filter(action=AuditAction.CASE_TRANSITION).order_by("sequence")
    assert [(e.detail["from"], e.detail["to"]) for e in moves] == [
        ("draft", "awaiting_approval"),
        ("awaiting_approval", "approved"),
        ("approved", "submitted"),
        ("submitted", "preserved"),
    ]


def test_preservation_can_be_extended_but_never_shortened(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = escalate(acme, alice)
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=alice)
    case = case_approve(case=case, supervisor=sam)
    case_transition(case=case, to=CaseStatus.SUBMITTED, actor=sam)
    case = case_preserve(case=case, actor=sam, start=date(2026, 11, 25))

    with pytest.raises(ReviewError, match="not later than"):
        case_extend_preservation(
            case=case, supervisor=sam, until=date(2027, 1, 1), reason="asked by police"
        )
    case = case_extend_preservation(
        case=case, supervisor=sam, until=date(2028, 6, 1), reason="asked by police"
    )

    assert case.preserve_until == date(2028, 6, 1)


@pytest.mark.postgres
def test_the_database_refuses_to_delete_a_preserved_case(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    case = escalate(acme, alice)
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=alice)
    case = case_approve(case=case, supervisor=sam)
    case_transition(case=case, to=CaseStatus.SUBMITTED, actor=sam)
    case_preserve(case=case, actor=None, start=timezone.localdate() - timedelta(days=1))

    with (
        pytest.raises(DatabaseError, match="under preservation"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM review_case WHERE id = %s", [case.pk])
