"""Escalation cases: opening one from an escalation decision, and every move through its
lifecycle. Each move is one transaction and one audit event; a move the lifecycle does not
allow raises ReviewError naming the states involved.

The editor, each reporting target's submission and the referral package build on these
functions; none of them changes ``Case.status`` by hand. Nothing here knows a target: what
differs between them (how long a case is preserved, say) is asked of ``case.reporting_target``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from review.audit.services import audit_record
from review.cases.models import in_sentence, status_label
from review.decisions.verdicts import CASE_TARGET_OF
from review.models import (
    CASE_HELD_STATUSES,
    AuditAction,
    Case,
    CaseStatus,
    Decision,
    Participant,
    ReviewError,
)
from review.tenancy.capabilities import Capability, user_can

# Which moves the lifecycle allows, from each state.
TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.DRAFT: frozenset({CaseStatus.AWAITING_APPROVAL, CaseStatus.CLOSED}),
    # A supervisor approves, or sends the case back to its author with a reason.
    CaseStatus.AWAITING_APPROVAL: frozenset({CaseStatus.APPROVED, CaseStatus.DRAFT}),
    CaseStatus.APPROVED: frozenset({CaseStatus.SUBMITTED}),
    CaseStatus.SUBMITTED: frozenset({CaseStatus.PRESERVED}),
    CaseStatus.PRESERVED: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}
# States in which the content of the case is still being written.
EDITABLE = frozenset({CaseStatus.DRAFT})


def _may(case: Case, user: AbstractBaseUser, capability: Capability) -> bool:
    return user_can(tenant_id=case.tenant_id, user=user, capability=capability)


def case_transition_refusal(*, case: Case, to: str) -> str | None:
    """Why the lifecycle does not allow ``case`` to become ``to`` now (None: it does)."""
    current = CaseStatus(case.status)
    if to in TRANSITIONS[current]:
        return None
    allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
    return (
        f"case {case.reference} is {in_sentence(case.status_label)}: it cannot become "
        f"{in_sentence(status_label(to, target=case.target))} (allowed from here: {allowed})"
    )


def case_transition(
    *,
    case: Case,
    to: str,
    actor: AbstractBaseUser | None,
    detail: dict[str, Any] | None = None,
) -> Case:
    """Move the case to ``to`` if the lifecycle allows it, and audit the move. Callers hold
    the case row's lock (``case_lock``) and set the fields that go with the new state."""
    current = CaseStatus(case.status)
    refusal = case_transition_refusal(case=case, to=to)
    if refusal:
        raise ReviewError(refusal)
    case.status = to
    if to == CaseStatus.CLOSED:
        case.closed_at = timezone.now()
    case.save()
    audit_record(
        tenant=case.tenant,
        actor=actor,
        action=AuditAction.CASE_TRANSITION,
        target_type="case",
        target_id=str(case.pk),
        detail={"from": current.value, "to": to, **(detail or {})},
        actor_label=None if actor else "system",
    )
    return case


def case_lock(*, case: Case) -> Case:
    """The case row, locked for this transaction, so two moves never race. Only the case
    row (``of``): locking the joined tenant too would hold up its scoring."""
    return Case.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=case.pk)


def _prefill(decision: Decision) -> dict[str, Any]:
    """Who is reported and who is the child, from what the platform sent: the participant
    the model holds most responsible (``Assessment.suspects_ranked``) is reported; a
    participant declared under 18 is the child, or else, when two people talk, the other
    one (most platforms know no ages). In a group with no declared minor the author names
    the child."""
    conversation = decision.conversation
    participants = list(conversation.participants.all().order_by("external_id"))
    assessment = decision.queue_item.assessment
    rank = {external_id: i for i, external_id in enumerate(assessment.suspects_ranked())}
    minors = [p for p in participants if p.declared_age is not None and p.declared_age < 18]
    victim = minors[0] if minors else None
    others = [p for p in participants if p != victim]
    reported = min(others, key=lambda p: rank.get(p.external_id, len(rank)), default=None)
    if victim is None and len(participants) == 2 and reported is not None:
        victim = next(p for p in participants if p != reported)
    # The incident starts with the first highlighted message (else the first message).
    flagged = {h["message"] for h in assessment.highlights if "message" in h}
    messages = conversation.messages.order_by("position").only("sent_at", "utc_offset_minutes")
    first = messages.filter(external_id__in=flagged).first() or messages.first()
    return {
        "reported_participant": reported,
        "victim_participant": victim,
        "reported_details": participant_details(reported) if reported else {},
        "victim_details": participant_details(victim) if victim else {},
        "incident_at": first.sent_at if first else None,
        "incident_utc_offset_minutes": first.utc_offset_minutes if first else None,
    }


def participant_details(participant: Participant) -> dict[str, Any]:
    """A participant as the platform described them, in the shape a case keeps."""
    return {
        "esp_identifier": participant.external_id,
        "screen_name": participant.screen_name,
        "display_name": participant.display_name,
        "email": participant.email,
        "age": participant.declared_age,
        "date_of_birth": (
            participant.date_of_birth.isoformat() if participant.date_of_birth else None
        ),
        "account_created_at": (
            participant.account_created_at.isoformat() if participant.account_created_at else None
        ),
        "ip_events": participant.ip_events,
        "device_ids": participant.device_ids,
        "estimated_location": participant.estimated_location,
    }


@transaction.atomic
def case_open(*, decision: Decision) -> Case:
    """Open the draft case an escalation decision calls for, prefilled from the conversation
    and from what the platform sent about its users. Idempotent per decision."""
    target = CASE_TARGET_OF.get(decision.verdict)
    if target is None:
        raise ReviewError(f"a {decision.get_verdict_display().lower()} decision opens no case")
    existing = Case.objects.filter(decision=decision).first()
    if existing is not None:
        return existing
    case = Case.objects.create(
        tenant=decision.tenant,
        conversation=decision.conversation,
        decision=decision,
        target=target,
        author=decision.moderator,
        **_prefill(decision),
    )
    audit_record(
        tenant=case.tenant,
        actor=decision.moderator,
        action=AuditAction.CASE_OPEN,
        target_type="case",
        target_id=str(case.pk),
        detail={
            "target": case.target,
            "decision": decision.pk,
            "conversation": case.conversation_id,
        },
    )
    return case


def case_approve_check(*, case: Case, supervisor: AbstractBaseUser) -> None:
    """Raise ReviewError if ``supervisor`` may not approve ``case`` now. The one rule:
    ``case_approve`` checks it under the case's lock, and the case page before it asks
    the supervisor to confirm (so a refusal is not preceded by the question)."""
    if not _may(case, supervisor, Capability.APPROVE_CASE):
        raise ReviewError(
            "only a supervisor or an admin of this tenant can approve a case", code="forbidden"
        )
    if case.author_id == supervisor.pk:
        raise ReviewError(
            "four eyes: the author of a case cannot approve it; another supervisor must",
            code="forbidden",
        )
    refusal = case_transition_refusal(case=case, to=CaseStatus.APPROVED)
    if refusal:
        raise ReviewError(refusal)


@transaction.atomic
def case_approve(*, case: Case, supervisor: AbstractBaseUser) -> Case:
    """Four eyes: a supervisor or admin who is not the case's author approves it."""
    case = case_lock(case=case)
    case_approve_check(case=case, supervisor=supervisor)
    case.approved_by = supervisor
    case.approved_at = timezone.now()
    return case_transition(case=case, to=CaseStatus.APPROVED, actor=supervisor)


@transaction.atomic
def case_preserve(*, case: Case, actor: AbstractBaseUser | None, start: date) -> Case:
    """Start the preservation duty: the case and its conversation are kept for as long as
    its target's rule says from ``start`` (the NCMEC receipt, the delivery)."""
    case = case_lock(case=case)
    case.preserve_until = case.reporting_target.preservation.until(start)
    return case_transition(
        case=case,
        to=CaseStatus.PRESERVED,
        actor=actor,
        detail={"preserve_until": case.preserve_until.isoformat()},
    )


@transaction.atomic
def case_extend_preservation(
    *, case: Case, supervisor: AbstractBaseUser, until: date, reason: str
) -> Case:
    """A supervisor keeps a preserved case longer (law enforcement asked, say). Never
    shortens it."""
    case = case_lock(case=case)
    if not _may(case, supervisor, Capability.SUBMIT_REPORT):
        raise ReviewError("only a supervisor or an admin can extend preservation", code="forbidden")
    if case.status != CaseStatus.PRESERVED or case.preserve_until is None:
        raise ReviewError(f"case {case.reference} is not preserved; nothing to extend")
    if until <= case.preserve_until:
        raise ReviewError(
            f"{until.isoformat()} is not later than the current preservation date "
            f"{case.preserve_until.isoformat()}",
            field="until",
        )
    if not reason.strip():
        raise ReviewError("say why preservation is extended", field="reason")
    previous = case.preserve_until
    case.preserve_until = until
    case.save(update_fields=["preserve_until", "updated_at"])
    audit_record(
        tenant=case.tenant,
        actor=supervisor,
        action=AuditAction.CASE_EDIT,
        target_type="case",
        target_id=str(case.pk),
        detail={
            "preserve_until": until.isoformat(),
            "previous": previous.isoformat(),
            "reason": reason.strip(),
        },
    )
    return case


def case_is_held(*, case: Case, today: date | None = None) -> bool:
    """Whether the case still holds its conversation back from any purge."""
    today = today or timezone.localdate()
    if case.status in CASE_HELD_STATUSES:
        return True
    return case.preserve_until is not None and case.preserve_until >= today
