"""Migration 0026 (the target-neutral case) copies every value both ways: undone, an NCMEC
case gets its report id, file ids and receipt back on the case and a delivered referral its
"delivered" status and delivery columns; redone, they are where they were."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from review.decisions.services import decision_create
from review.models import Case, CaseStatus, NcmecState, NcmecSubmission, Tenant
from review.queue.services import queue_item_claim_next
from tests.review_support import flagged_item

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("review", "0025_auditor_role")
DELIVERED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SUBMITTED_AT = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


def escalate(tenant: Tenant, moderator: Any, n: int, verdict: str = "escalate_ncmec") -> Case:
    flagged_item(tenant, n)
    item = queue_item_claim_next(tenant=tenant, moderator=moderator)
    assert item is not None
    return decision_create(
        item=item, moderator=moderator, verdict=verdict, reason_code="grooming_indicators"
    ).case


def migrate(target: tuple[str, str] | None = None) -> Any:
    """Migrate the review app to ``target`` (its latest migration when None) and answer the
    app registry of that state."""
    executor = MigrationExecutor(connection)
    target = target or executor.loader.graph.leaf_nodes("review")[0]
    executor.migrate([target])
    return MigrationExecutor(connection).loader.project_state(target).apps


def test_the_target_neutral_case_migrates_back_and_forth_without_losing_a_value(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    report = escalate(acme, alice, 0)
    Case.objects.filter(pk=report.pk).update(
        status=CaseStatus.PRESERVED,
        submitted_at=SUBMITTED_AT,
        submitted_to="NCMEC CyberTipline",
        submission_reference="777",
        preserve_until=date(2027, 11, 21),
    )
    NcmecSubmission.objects.create(
        tenant=acme,
        case=report,
        state=NcmecState.FINISHED,
        report_id="777",
        file_ids=["f-1"],
        receipt="<reportDoneResponse>777</reportDoneResponse>",
    )
    referral = escalate(acme, alice, 1, "escalate_law_enforcement")
    Case.objects.filter(pk=referral.pk).update(
        status=CaseStatus.SUBMITTED,
        submitted_at=DELIVERED_AT,
        submitted_to="County Sheriff",
        submission_reference="CS-1",
    )
    draft = escalate(acme, sam, 2)
    after = {
        c.pk: (c.target, c.status, c.submitted_at, c.submitted_to, c.submission_reference)
        for c in Case.objects.all()
    }

    old = migrate(BEFORE).get_model("review", "Case")

    was_report, was_referral, was_draft = (
        old.objects.get(pk=report.pk),
        old.objects.get(pk=referral.pk),
        old.objects.get(pk=draft.pk),
    )
    assert (was_report.kind, was_report.status) == ("ncmec", "preserved")
    assert was_report.ncmec_report_id == "777"
    assert was_report.ncmec_file_ids == ["f-1"]
    assert was_report.ncmec_receipt == "<reportDoneResponse>777</reportDoneResponse>"
    assert was_report.submitted_at == SUBMITTED_AT
    assert (was_report.delivered_to, was_report.delivery_reference) == ("", "")
    assert (was_referral.kind, was_referral.status) == ("law_enforcement", "delivered")
    assert (was_referral.delivered_at, was_referral.submitted_at) == (DELIVERED_AT, None)
    assert (was_referral.delivered_to, was_referral.delivery_reference) == (
        "County Sheriff",
        "CS-1",
    )
    assert (was_draft.kind, was_draft.status, was_draft.ncmec_report_id) == ("ncmec", "draft", "")

    migrate()

    assert {
        c.pk: (c.target, c.status, c.submitted_at, c.submitted_to, c.submission_reference)
        for c in Case.objects.all()
    } == after
    submission = NcmecSubmission.objects.get(case=report.pk)
    assert (submission.state, submission.report_id, submission.file_ids) == (
        NcmecState.FINISHED,
        "777",
        ["f-1"],
    )
    assert submission.receipt == "<reportDoneResponse>777</reportDoneResponse>"


def test_a_delivery_recorded_before_0035_gets_its_date_and_the_time_it_was_recorded(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    from review.cases.flow import case_record_delivery
    from review.cases.services import case_approve
    from review.models import AuditAction, AuditEvent

    case = escalate(acme, alice, 0, "escalate_law_enforcement")
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.AWAITING_APPROVAL)
    case = case_approve(case=Case.objects.get(pk=case.pk), supervisor=sam)
    Case.objects.filter(pk=case.pk).update(approved_at=datetime(2026, 11, 19, 12, 0, tzinfo=UTC))
    case = case_record_delivery(
        case=case, supervisor=sam, agency="County Sheriff", reference="CS-1",
        delivered_on=date(2026, 11, 20),
    )  # fmt: skip
    event = AuditEvent.objects.get(
        action=AuditAction.CASE_TRANSITION, target_id=str(case.pk), detail__to="submitted"
    )
    untouched = escalate(acme, alice, 1)
    # What the code before 0035 stored: midnight of the date given, and no date of its own.
    old = migrate(("review", "0034_audit_action_label_of_page_views")).get_model("review", "Case")
    old.objects.filter(pk=case.pk).update(submitted_at=datetime(2026, 11, 20, tzinfo=UTC))

    migrate()

    case = Case.objects.get(pk=case.pk)
    assert case.delivered_on == date(2026, 11, 20)
    assert case.submitted_at == event.created_at
    assert Case.objects.get(pk=untouched.pk).delivered_on is None
