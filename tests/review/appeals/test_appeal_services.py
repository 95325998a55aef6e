"""Appeals as services: received once per platform appeal id, taken by anyone but the
decider, upheld, overturned by a superseding decision, or referred to a supervisor; each
outcome owed to the platform by the signed webhook."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from review.appeals.services import (
    appeal_claim_next,
    appeal_decide,
    appeal_receive,
    appeal_release,
    appeal_renew,
)
from review.cases.services import case_approve, case_preserve, case_transition
from review.decisions.services import decision_create
from review.decisions.supervision import decision_supersede
from review.models import (
    AppealOutcome,
    AppealStatus,
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    Decision,
    OutboxMessage,
    QueueItem,
    ReviewError,
    Tenant,
    WebhookDelivery,
)
from review.queue.services import queue_item_claim_next
from tests.review.appeals.support import STATEMENT, appeal_of
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.supervision_support import decide

pytestmark = pytest.mark.django_db


def test_the_platform_appeals_a_ban_and_sending_it_again_changes_nothing(
    acme: Tenant, alice: Any
) -> None:
    ban = decide(acme, alice)
    made_at = timezone.now() - timedelta(minutes=2)
    first = appeal_receive(
        tenant=acme, decision_id=ban.pk, external_id="a-1", statement=STATEMENT, made_at=made_at
    )
    again = appeal_receive(
        tenant=acme, decision_id=ban.pk, external_id="a-1", statement=STATEMENT, made_at=made_at
    )

    assert (first.created, again.created) == (True, False)
    assert again.appeal.pk == first.appeal.pk
    assert first.appeal.status == AppealStatus.WAITING
    received = AuditEvent.objects.get(action=AuditAction.APPEAL_RECEIVE)
    assert received.detail["statement_chars"] == len(STATEMENT)
    assert "cousin" not in str(received.detail)


def test_one_appeal_id_with_other_words_is_refused(acme: Tenant, alice: Any) -> None:
    ban = decide(acme, alice)
    appeal_of(ban, external_id="a-1")
    with pytest.raises(ReviewError) as refused:
        appeal_of(ban, external_id="a-1", statement="something else")
    assert (refused.value.field, refused.value.code) == ("appeal_id", "conflict")


def test_another_tenants_decision_is_not_found(acme: Tenant, globex: Tenant, alice: Any) -> None:
    ban = decide(acme, alice)
    with pytest.raises(ReviewError) as refused:
        appeal_of(ban, tenant=globex)
    assert (refused.value.field, refused.value.code) == ("decision", "not_found")


def test_a_second_open_appeal_of_one_decision_is_a_conflict(acme: Tenant, alice: Any) -> None:
    ban = decide(acme, alice)
    appeal_of(ban, external_id="a-1")
    with pytest.raises(ReviewError) as refused:
        appeal_of(ban, external_id="a-2")
    assert (refused.value.field, refused.value.code) == ("decision", "conflict")


def test_a_decision_without_an_account_action_cannot_be_appealed(acme: Tenant, alice: Any) -> None:
    cleared = decide(acme, alice, verdict="no_violation", reason_code="benign_context")
    with pytest.raises(ReviewError) as refused:
        appeal_of(cleared)
    assert (refused.value.field, refused.value.code) == ("decision", "invalid")


def test_an_appeal_made_before_the_decision_is_refused(acme: Tenant, alice: Any) -> None:
    ban = decide(acme, alice)
    with pytest.raises(ReviewError) as refused:
        appeal_of(ban, made_at=ban.created_at - timedelta(days=1))
    assert refused.value.field == "made_at"


def test_the_decider_is_never_handed_the_appeal_of_her_own_decision(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    appeal = appeal_of(decide(acme, alice))

    assert appeal_claim_next(tenant=acme, reviewer=alice) is None
    assert appeal_claim_next(tenant=acme, reviewer=bob) == appeal


def test_the_supervisor_who_superseded_is_never_handed_the_appeal_of_his_decision(
    acme: Tenant, alice: Any, sam: Any, bob: Any
) -> None:
    first = decide(acme, alice, verdict="warn")
    ban = decision_supersede(
        tenant=acme, current=first, supervisor=sam, verdict="ban",
        reason_code="grooming_indicators",
    )  # fmt: skip
    appeal = appeal_of(ban)

    assert appeal_claim_next(tenant=acme, reviewer=sam) is None
    assert appeal_claim_next(tenant=acme, reviewer=bob) == appeal


def test_bob_upholds_and_the_platform_is_told_the_ban_stands(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)
    assert appeal_claim_next(tenant=acme, reviewer=bob) == appeal

    decided = appeal_decide(appeal=appeal, reviewer=bob, outcome="upheld", notes="clear case")

    assert (decided.status, decided.outcome, decided.reviewer) == ("done", "upheld", bob)
    assert decided.new_decision is None
    assert not Decision.objects.filter(supersedes=ban).exists()
    payload = WebhookDelivery.objects.get(appeal=appeal).payload
    assert payload["event"] == "appeal"
    assert (payload["appeal_id"], payload["decision"], payload["outcome"]) == (
        "appeal-1",
        ban.pk,
        "upheld",
    )
    assert (payload["action"], payload["new_decision"]) == ("ban", None)
    assert payload["statement_of_reasons"]["action"] == "ban"
    assert "cousin" not in str(payload)
    assert "clear case" not in str(payload)
    assert "dont tell" not in str(payload)
    assert OutboxMessage.objects.filter(args=[payload["delivery"]]).exists()


def test_bob_overturns_a_ban_with_a_new_decision_that_lifts_it(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)
    appeal_claim_next(tenant=acme, reviewer=bob)

    decided = appeal_decide(
        appeal=appeal, reviewer=bob, outcome="overturned", verdict="no_violation",
        reason_code="peers_same_age", notes="two classmates",
    )  # fmt: skip

    new = decided.new_decision
    assert new is not None
    assert (new.supersedes, new.moderator, new.verdict) == (ban, bob, "no_violation")
    # One webhook, the appeal's, carries the new decision: none of its own.
    assert not WebhookDelivery.objects.filter(decision=new).exists()
    payload = WebhookDelivery.objects.get(appeal=appeal).payload
    assert (payload["outcome"], payload["new_decision"], payload["action"]) == (
        "overturned",
        new.pk,
        "none",
    )
    assert payload["reason_code"] == "peers_same_age"
    event = AuditEvent.objects.get(action=AuditAction.APPEAL_DECIDE)
    assert event.detail["new_decision"] == new.pk
    supersede = AuditEvent.objects.filter(action=AuditAction.DECISION).latest("sequence")
    assert supersede.detail["appeal"] == appeal.pk


def test_an_overturn_needs_a_verdict_and_a_reason_that_go_together(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    appeal = appeal_of(decide(acme, alice))
    appeal_claim_next(tenant=acme, reviewer=bob)

    with pytest.raises(ReviewError) as no_verdict:
        appeal_decide(appeal=appeal, reviewer=bob, outcome="overturned")
    with pytest.raises(ReviewError) as wrong_reason:
        appeal_decide(
            appeal=appeal, reviewer=bob, outcome="overturned", verdict="warn",
            reason_code="benign_context",
        )  # fmt: skip
    with pytest.raises(ReviewError) as same:
        appeal_decide(
            appeal=appeal, reviewer=bob, outcome="overturned", verdict="ban",
            reason_code="grooming_indicators",
        )  # fmt: skip

    assert [e.value.field for e in (no_verdict, wrong_reason, same)] == [
        "verdict",
        "reason_code",
        "verdict",
    ]
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.CLAIMED


def test_an_escalation_is_not_an_answer_to_an_appeal(acme: Tenant, alice: Any, bob: Any) -> None:
    appeal = appeal_of(decide(acme, alice))
    appeal_claim_next(tenant=acme, reviewer=bob)

    with pytest.raises(ReviewError) as refused:
        appeal_decide(
            appeal=appeal, reviewer=bob, outcome="overturned", verdict="escalate_ncmec",
            reason_code="sexual_solicitation",
        )  # fmt: skip

    assert refused.value.field == "verdict"
    assert "escalation does not answer an appeal" in refused.value.message
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.CLAIMED


def test_sams_escalation_answers_the_appeal_and_the_ban_stays_in_force(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    """The platform is never told of a report, so the escalation's own action is none; the
    appeal it answers must not read as lifting the ban."""
    ban = decide(acme, alice)
    appeal = appeal_of(ban)

    escalation = decision_supersede(
        tenant=acme, current=ban, supervisor=sam, verdict="escalate_ncmec",
        reason_code="sexual_solicitation",
    )  # fmt: skip

    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.new_decision) == (AppealOutcome.SUPERSEDED, escalation)
    payload = WebhookDelivery.objects.get(appeal=appeal).payload
    assert payload["action"] == "ban"
    assert payload["statement_of_reasons"]["action_text"].endswith("The account is banned.")
    assert "NCMEC" not in str(payload["statement_of_reasons"])


def test_a_referred_appeal_waits_for_a_supervisor_and_the_platform_hears_once(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    appeal = appeal_of(decide(acme, alice))
    appeal_claim_next(tenant=acme, reviewer=bob)

    with pytest.raises(ReviewError) as no_notes:
        appeal_decide(appeal=appeal, reviewer=bob, outcome="referred")
    referred = appeal_decide(appeal=appeal, reviewer=bob, outcome="referred", notes="ages unclear")

    assert no_notes.value.field == "notes"
    assert (referred.status, referred.referred_by) == (AppealStatus.WAITING, bob)
    assert not WebhookDelivery.objects.filter(appeal=appeal).exists()
    assert appeal_claim_next(tenant=acme, reviewer=bob) is None
    assert appeal_claim_next(tenant=acme, reviewer=sam) == appeal
    with pytest.raises(ReviewError):
        appeal_decide(appeal=appeal, reviewer=sam, outcome="referred", notes="again")

    done = appeal_decide(
        appeal=appeal, reviewer=sam, outcome="overturned", verdict="warn",
        reason_code="grooming_indicators",
    )  # fmt: skip
    assert (done.outcome, done.reviewer) == (AppealOutcome.OVERTURNED, sam)
    assert WebhookDelivery.objects.get(appeal=appeal).payload["action"] == "warn"


def test_a_skipped_appeal_goes_back_to_the_queue(acme: Tenant, alice: Any, bob: Any) -> None:
    appeal = appeal_of(decide(acme, alice))
    appeal_claim_next(tenant=acme, reviewer=bob)
    appeal_release(appeal=appeal, reviewer=bob)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.claimed_by) == (AppealStatus.WAITING, None)


def test_only_the_holder_decides(acme: Tenant, alice: Any, bob: Any, sam: Any) -> None:
    appeal = appeal_of(decide(acme, alice))
    appeal_claim_next(tenant=acme, reviewer=bob)
    with pytest.raises(ReviewError) as refused:
        appeal_decide(appeal=appeal, reviewer=sam, outcome="upheld")
    assert refused.value.code == "lease_lost"


def test_a_closed_appeal_lets_the_platform_appeal_again(acme: Tenant, alice: Any, bob: Any) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban, external_id="a-1")
    appeal_claim_next(tenant=acme, reviewer=bob)
    appeal_decide(appeal=appeal, reviewer=bob, outcome="upheld")

    assert appeal_of(ban, external_id="a-2").status == AppealStatus.WAITING


def test_overturning_never_touches_a_preserved_case_on_the_conversation(
    acme: Tenant, alice: Any, bob: Any, sam: Any, ada: Any
) -> None:
    # Alice escalated; the report went out and is preserved. Sam later banned the account
    # as well; the user appeals the ban and Bob lifts it. The report stays preserved.
    case = escalate(acme, alice)
    case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=alice)
    case = case_approve(case=case, supervisor=sam)
    case_transition(case=case, to=CaseStatus.SUBMITTED, actor=sam)
    case_preserve(case=case, actor=None, start=date(2026, 11, 25))
    ban = decision_supersede(
        tenant=acme, current=case.decision, supervisor=sam, verdict="ban",
        reason_code="grooming_indicators",
    )  # fmt: skip
    appeal = appeal_of(ban)
    appeal_claim_next(tenant=acme, reviewer=bob)

    appeal_decide(
        appeal=appeal, reviewer=bob, outcome="overturned", verdict="no_violation",
        reason_code="insufficient_evidence",
    )  # fmt: skip

    kept = Case.objects.get(pk=case.pk)
    assert (kept.status, kept.preserve_until) == (CaseStatus.PRESERVED, date(2027, 11, 25))


def test_sams_superseding_decision_answers_the_open_appeal_and_the_platform_is_told(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)

    suspend = decision_supersede(
        tenant=acme, current=ban, supervisor=sam, verdict="suspend",
        reason_code="grooming_indicators",
    )  # fmt: skip

    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome) == (AppealStatus.DONE, AppealOutcome.SUPERSEDED)
    assert (appeal.new_decision, appeal.reviewer) == (suspend, sam)
    assert appeal.decided_at is not None
    payload = WebhookDelivery.objects.get(appeal=appeal).payload
    assert (payload["outcome"], payload["new_decision"], payload["action"]) == (
        "superseded", suspend.pk, "suspend",
    )  # fmt: skip
    assert payload["statement_of_reasons"]["action"] == "suspend"
    assert "cousin" not in str(payload)
    assert OutboxMessage.objects.filter(args=[payload["delivery"]]).exists()
    closed = AuditEvent.objects.get(action=AuditAction.APPEAL_DECIDE, target_id=str(appeal.pk))
    assert (closed.actor, closed.detail["outcome"], closed.detail["new_decision"]) == (
        sam, "superseded", suspend.pk,
    )  # fmt: skip
    assert appeal_claim_next(tenant=acme, reviewer=sam) is None


def test_a_moderators_decision_on_new_messages_answers_the_open_appeal(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)
    again = QueueItem.objects.create(
        tenant=acme, conversation=ban.conversation, assessment=ban.queue_item.assessment,
        priority=0.9, rank=0.9, enqueued_at=timezone.now(),
    )  # fmt: skip
    queue_item_claim_next(tenant=acme, moderator=bob)

    lifted = decision_create(
        item=again, moderator=bob, verdict="no_violation", reason_code="benign_context"
    )

    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.new_decision, appeal.reviewer) == (
        AppealOutcome.SUPERSEDED, lifted, bob,
    )  # fmt: skip
    assert WebhookDelivery.objects.get(appeal=appeal).payload["action"] == "none"


def test_bob_holding_the_appeal_when_sam_supersedes_is_told_which_decision_answered_it(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)
    assert appeal_claim_next(tenant=acme, reviewer=bob) == appeal
    suspend = decision_supersede(
        tenant=acme, current=ban, supervisor=sam, verdict="suspend",
        reason_code="grooming_indicators",
    )  # fmt: skip

    with pytest.raises(ReviewError) as refused:
        appeal_decide(appeal=appeal, reviewer=bob, outcome="upheld")
    with pytest.raises(ReviewError) as renewal:
        appeal_renew(appeal=appeal, reviewer=bob)

    assert refused.value.code == "conflict"
    assert f"answered by decision {suspend.pk}" in refused.value.message
    assert renewal.value.code == "conflict"
    appeal.refresh_from_db()
    assert (appeal.claimed_by, appeal.lease_expires_at) == (None, None)
    assert WebhookDelivery.objects.filter(appeal=appeal).count() == 1


def test_a_referred_appeal_is_answered_by_sams_decision_too(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)
    appeal_claim_next(tenant=acme, reviewer=bob)
    appeal_decide(appeal=appeal, reviewer=bob, outcome="referred", notes="ages unclear")

    decision_supersede(
        tenant=acme, current=ban, supervisor=sam, verdict="warn",
        reason_code="grooming_indicators",
    )  # fmt: skip

    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome) == (AppealStatus.DONE, AppealOutcome.SUPERSEDED)
    assert appeal_claim_next(tenant=acme, reviewer=sam) is None


def test_a_question_to_a_supervisor_leaves_the_appeal_for_the_supervisors_answer(
    acme: Tenant, alice: Any, bob: Any, sam: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)
    again = QueueItem.objects.create(
        tenant=acme, conversation=ban.conversation, assessment=ban.queue_item.assessment,
        priority=0.9, rank=0.9, enqueued_at=timezone.now(),
    )  # fmt: skip
    queue_item_claim_next(tenant=acme, moderator=bob)
    question = decision_create(
        item=again, moderator=bob, verdict="ask_supervisor", reason_code="second_opinion"
    )

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.WAITING, "a question answers nothing"
    assert not WebhookDelivery.objects.filter(appeal=appeal).exists()
    assert appeal_claim_next(tenant=acme, reviewer=sam) is None, "it waits for the answer"

    answer = decision_supersede(
        tenant=acme, current=question, supervisor=sam, verdict="warn",
        reason_code="grooming_indicators",
    )  # fmt: skip

    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.new_decision) == (AppealOutcome.SUPERSEDED, answer)
    assert WebhookDelivery.objects.get(appeal=appeal).payload["action"] == "warn"


def test_bobs_own_overturn_closes_the_appeal_as_overturned_not_superseded(
    acme: Tenant, alice: Any, bob: Any
) -> None:
    appeal = appeal_of(decide(acme, alice))
    appeal_claim_next(tenant=acme, reviewer=bob)

    done = appeal_decide(
        appeal=appeal, reviewer=bob, outcome="overturned", verdict="warn",
        reason_code="grooming_indicators",
    )  # fmt: skip

    assert done.outcome == AppealOutcome.OVERTURNED
    assert WebhookDelivery.objects.filter(appeal=appeal).count() == 1
