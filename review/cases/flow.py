"""The work on a case after it is opened: the author completes it in the editor, submits it
for approval, a supervisor approves it or sends it back, records the delivery of a referral
(which starts preservation), and a case is closed when that is allowed. What differs between
reporting targets (what else blocks a case, whether a person records its submission) is
asked of ``case.reporting_target``; what the editor accepts and what a draft still lacks,
of ``review.cases.editor``.

Every function is one transaction and leaves an audit event. Edits are audited by the
*names* of the fields that changed, never their values: a narrative quotes the chat, and the
audit trail must never hold what was said. Moves go through ``case_transition``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from review.audit.services import audit_record
from review.cases.editor import (
    MAX_SHORT,
    case_problems,
    changed_names,
    editor_clean,
    offset_minutes,
    problem_said,
)
from review.cases.models import in_sentence
from review.cases.services import case_lock, case_preserve, case_transition, case_transition_refusal
from review.models import AuditAction, Case, CaseStatus, Membership, ReviewError
from review.tenancy.capabilities import Capability, member_can, user_can


@transaction.atomic
def case_update(*, case: Case, actor: AbstractBaseUser, **fields: Any) -> Case:
    """The author completes the draft. Only the fields given change; ``reported_details``
    and ``victim_details`` merge key by key. Audits CASE_EDIT with the changed fields' names."""
    case = case_lock(case=case)
    if case.status != CaseStatus.DRAFT:
        raise ReviewError(
            f"case {case.reference} is {in_sentence(CaseStatus(case.status).label)}; "
            "only a draft can be edited"
        )
    if case.author_id != actor.pk:
        raise ReviewError("only the case's author edits it while it is a draft", code="forbidden")
    cleaned = editor_clean(case, fields)
    changed = changed_names(case, cleaned)
    if not changed:
        return case
    for key, value in cleaned.items():
        setattr(case, key, value)
    if "incident_at" in cleaned:
        case.incident_utc_offset_minutes = offset_minutes(cleaned["incident_at"])
    case.save()
    audit_record(
        tenant=case.tenant,
        actor=actor,
        action=AuditAction.CASE_EDIT,
        target_type="case",
        target_id=str(case.pk),
        detail={"fields": changed},
    )
    return case


@transaction.atomic
def case_submit(*, case: Case, actor: AbstractBaseUser) -> Case:
    """The author hands the finished draft to a supervisor. Refused, naming every field,
    while anything is missing."""
    case = case_lock(case=case)
    if case.author_id != actor.pk:
        raise ReviewError("only the case's author submits it for approval", code="forbidden")
    if case.status == CaseStatus.DRAFT:
        problems = case_problems(case)
        if problems:
            listed = "; ".join(problem_said(name, message) for name, message in problems.items())
            raise ReviewError(f"case {case.reference} is not complete. {listed}", code="invalid")
    return case_transition(case=case, to=CaseStatus.AWAITING_APPROVAL, actor=actor)


@transaction.atomic
def case_send_back(*, case: Case, supervisor: AbstractBaseUser, reason: str) -> Case:
    """A supervisor returns the case to its author's draft, saying what to change."""
    case = case_lock(case=case)
    if not user_can(tenant_id=case.tenant_id, user=supervisor, capability=Capability.APPROVE_CASE):
        raise ReviewError("only a supervisor or an admin sends a case back", code="forbidden")
    if not reason.strip():
        raise ReviewError("say what the author should change", field="reason")
    if case.status != CaseStatus.AWAITING_APPROVAL:
        raise ReviewError(f"case {case.reference} is not awaiting approval")
    return case_transition(
        case=case, to=CaseStatus.DRAFT, actor=supervisor, detail={"reason": reason.strip()[:2000]}
    )


# -- delivery, preservation, closing ----------------------------------------------------


def case_delivery_check(
    *,
    case: Case,
    supervisor: AbstractBaseUser,
    agency: str,
    reference: str,
    delivered_on: date | None,
) -> tuple[str, str, date]:
    """The delivery as it will be recorded (agency, reference, date), or ReviewError if
    ``supervisor`` may not record it on ``case`` now. The one rule: ``case_record_delivery``
    checks it under the case's lock, and the case page before it asks to confirm."""
    if not user_can(tenant_id=case.tenant_id, user=supervisor, capability=Capability.SUBMIT_REPORT):
        raise ReviewError("only a supervisor or an admin records a delivery", code="forbidden")
    target = case.reporting_target
    if not target.recorded_by_hand:
        raise ReviewError(
            f"case {case.reference} is reported by Artemis itself ({target.label}): it is "
            "submitted, not delivered"
        )
    agency, reference = (agency or "").strip(), (reference or "").strip()
    if not agency:
        raise ReviewError("name the agency the referral was delivered to", field="agency")
    if not reference:
        raise ReviewError("give the agency's reference for the referral", field="reference")
    for name, value in (("agency", agency), ("reference", reference)):
        if len(value) > MAX_SHORT:
            raise ReviewError(f"at most {MAX_SHORT} characters", field=name)
    if delivered_on is None:
        raise ReviewError("give the date the referral was delivered", field="delivered_on")
    if delivered_on > timezone.localdate():
        raise ReviewError("is in the future", field="delivered_on")
    if case.approved_at and delivered_on < timezone.localdate(case.approved_at):
        raise ReviewError("is before the case was approved", field="delivered_on")
    refusal = case_transition_refusal(case=case, to=CaseStatus.SUBMITTED)
    if refusal:
        raise ReviewError(refusal)
    return agency, reference, delivered_on


@transaction.atomic
def case_record_delivery(
    *,
    case: Case,
    supervisor: AbstractBaseUser,
    agency: str,
    reference: str,
    delivered_on: date | None,
) -> Case:
    """A supervisor records that an approved case was handed over by hand (a referral to a
    law-enforcement agency): the case becomes submitted, with the agency and its reference
    as the receipt, then preserved by its target's rule from the delivery date."""
    case = case_lock(case=case)
    agency, reference, delivered_on = case_delivery_check(
        case=case,
        supervisor=supervisor,
        agency=agency,
        reference=reference,
        delivered_on=delivered_on,
    )
    case.submitted_to = agency
    case.submission_reference = reference
    # The date is the supervisor's word; the time is when Artemis recorded it. Neither is
    # dressed up as the other (a midnight "delivered at" claims a time nobody gave).
    case.delivered_on = delivered_on
    case.submitted_at = timezone.now()
    case_transition(
        case=case,
        to=CaseStatus.SUBMITTED,
        actor=supervisor,
        detail={"agency": agency, "reference": reference, "delivered_on": delivered_on.isoformat()},
    )
    return case_preserve(case=case, actor=supervisor, start=delivered_on)


def case_close_refusal(
    *, case: Case, actor: AbstractBaseUser, membership: Membership | None
) -> str | None:
    """Why ``actor`` (through ``membership``) may not close ``case`` now; None if they may.
    The one place that decides it: ``case_close`` refuses with this, and the case page
    offers the button only when it is None. A draft opened by mistake closes (its author,
    or whoever approves cases); a preserved case closes after its preservation date (whoever
    approves cases). Nothing else closes."""
    if membership is None or not member_can(membership, Capability.WRITE_CASE):
        return "only a member who writes cases closes one"
    approver = member_can(membership, Capability.APPROVE_CASE)
    if case.status == CaseStatus.DRAFT:
        if case.author_id != actor.pk and not approver:
            return "only the author or a supervisor closes a draft case"
    elif case.status == CaseStatus.PRESERVED:
        if not approver:
            return "only a supervisor or an admin closes a preserved case"
        if case.preserve_until is None or case.preserve_until >= timezone.localdate():
            return (
                f"case {case.reference} is preserved until "
                f"{case.preserve_until.isoformat() if case.preserve_until else '?'}; "
                "it can be closed only after that date"
            )
    return case_transition_refusal(case=case, to=CaseStatus.CLOSED)


def case_close_check(*, case: Case, actor: AbstractBaseUser, reason: str) -> str:
    """The reason as it will be recorded, or ReviewError if ``actor`` may not close
    ``case`` now (``case_close_refusal``) or gave no reason; the case page checks it
    before it asks to confirm."""
    if not reason.strip():
        raise ReviewError("say why the case is closed", field="reason")
    membership = Membership.objects.filter(tenant_id=case.tenant_id, user=actor).first()
    refusal = case_close_refusal(case=case, actor=actor, membership=membership)
    if refusal:
        raise ReviewError(refusal)
    return reason.strip()[:2000]


@transaction.atomic
def case_close(*, case: Case, actor: AbstractBaseUser, reason: str) -> Case:
    """Close a case, when ``case_close_refusal`` allows it, with a reason."""
    case = case_lock(case=case)
    reason = case_close_check(case=case, actor=actor, reason=reason)
    return case_transition(case=case, to=CaseStatus.CLOSED, actor=actor, detail={"reason": reason})


def case_record_view(*, case: Case, actor: AbstractBaseUser, ip: str | None) -> None:
    """Who opened the case, and when: a case page holds a child's details."""
    audit_record(
        tenant=case.tenant,
        actor=actor,
        action=AuditAction.CASE_VIEW,
        target_type="case",
        target_id=str(case.pk),
        detail={"status": case.status},
        ip=ip,
    )
