"""Appeals: receiving one from the platform, taking it from the appeals queue, and its
outcome (upheld, overturned by a new decision superseding the old one, or referred to a
supervisor; an appeal whose decision is replaced by anything else is closed as superseded,
see ``superseded``). Each is one transaction and one audit event; the outcome goes back to the
platform by the signed webhook, through the outbox.

Who may take an appeal: never the person who made the appealed decision (for a supervisor's
superseding decision, that supervisor), and a referred appeal only a supervisor. Nobody's
appeal is decided by the decider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from review.audit.services import audit_record
from review.decisions import verdicts
from review.decisions.services import decision_check
from review.decisions.supervision import decision_supersede
from review.models import (
    ACCOUNT_ACTIONS,
    Appeal,
    AppealOutcome,
    AppealStatus,
    AuditAction,
    Decision,
    ReviewError,
    Tenant,
    Verdict,
)
from review.outbound.webhooks import appeal_webhook_enqueue
from review.queue.leases import (
    APPEAL,
    LeaseError,
    lease_held,
    lease_next,
    lease_release,
    lease_renew,
)
from review.tenancy.capabilities import Capability, user_can

MAX_STATEMENT_CHARS = 5000
# A user cannot appeal before the decision was made; a platform's clock may run a little
# behind ours.
CLOCK_SKEW = timedelta(minutes=5)
REFERRED = "referred"  # the third outcome: not final, the appeal waits for a supervisor
OUTCOMES = (AppealOutcome.UPHELD, AppealOutcome.OVERTURNED, REFERRED)
# The verdicts an overturn may record: no violation or another account action. An
# escalation is not an answer to a user's appeal (it tells the platform nothing, so the
# appeal's answer would lift the action in force, and a statement of reasons must never tip
# off a report); nor is a question, which is what referring is for.
ANSWERS = frozenset(
    row.value
    for row in verdicts.VERDICTS
    if row.opens_case is None and row.training is not verdicts.TrainingLabel.IGNORED
)


@dataclass(frozen=True, slots=True)
class Received:
    appeal: Appeal
    created: bool


@transaction.atomic
def appeal_receive(
    *, tenant: Tenant, decision_id: int, external_id: str, statement: str, made_at: datetime
) -> Received:
    """Record the platform's appeal of a decision it was told to carry out. Idempotent on
    the platform's appeal id: the same appeal sent again answers the first; the same id with
    different content is refused. A second open appeal of one decision is refused."""
    existing = Appeal.objects.filter(tenant=tenant, external_id=external_id).first()
    if existing is not None:
        if (existing.decision_id, existing.statement, existing.made_at) == (
            decision_id,
            statement,
            made_at,
        ):
            return Received(existing, created=False)
        raise ReviewError(
            f"appeal {external_id!r} was already sent with a different decision, statement or "
            "time; an appeal id names one appeal",
            field="appeal_id",
            code="conflict",
        )
    decision = (
        Decision.objects.select_for_update(of=("self",))
        .select_related("conversation")
        .filter(tenant=tenant, pk=decision_id)
        .first()
    )
    if decision is None:
        raise ReviewError(f"no decision {decision_id}", field="decision", code="not_found")
    if decision.verdict not in ACCOUNT_ACTIONS:
        raise ReviewError(
            f"decision {decision_id} asked for no action on an account; only an account "
            "action can be appealed",
            field="decision",
            code="invalid",
        )
    later = Decision.objects.filter(supersedes=decision).values_list("pk", flat=True).first()
    if later is not None:
        raise ReviewError(
            f"decision {decision_id} was replaced by decision {later}; appeal that one",
            field="decision",
            code="conflict",
        )
    if made_at > timezone.now() + CLOCK_SKEW:
        # Otherwise the appeal would say it was made after it reached us.
        raise ReviewError(
            "is after the appeal reached Artemis; a user makes an appeal before it is sent",
            field="made_at",
            code="invalid",
        )
    if made_at < decision.created_at - CLOCK_SKEW:
        raise ReviewError(
            f"is before decision {decision_id} was made ({decision.created_at.isoformat()})",
            field="made_at",
            code="invalid",
        )
    open_appeal = decision.appeals.exclude(status=AppealStatus.DONE).first()
    if open_appeal is not None:
        raise ReviewError(
            f"decision {decision_id} already has an open appeal ({open_appeal.external_id!r})",
            field="decision",
            code="conflict",
        )
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                tenant=tenant,
                decision=decision,
                conversation=decision.conversation,
                external_id=external_id,
                statement=statement,
                made_at=made_at,
                received_at=timezone.now(),
            )
    except IntegrityError:
        # Another request with the same appeal id or for the same decision won the race.
        raise ReviewError(
            "another request recorded an appeal of this decision or with this id just now",
            field="appeal_id",
            code="conflict",
        ) from None
    audit_record(
        tenant=tenant,
        actor=None,
        action=AuditAction.APPEAL_RECEIVE,
        target_type="appeal",
        target_id=str(appeal.pk),
        detail={
            "decision": decision.pk,
            "conversation": decision.conversation_id,
            "appeal_id": external_id,
            "statement_chars": len(statement),
        },
    )
    return Received(appeal, created=True)


def appeals_eligible(*, tenant: Tenant, reviewer: AbstractBaseUser) -> QuerySet[Appeal]:
    """Appeals this member may take: never one of their own decision; a referred one only
    with SUPERVISE."""
    eligible = Appeal.objects.filter(tenant=tenant).exclude(decision__moderator=reviewer)
    # An appealed decision followed by a question waits for the supervisor's answer, which
    # closes the appeal; until then nobody can give it an outcome.
    eligible = eligible.exclude(decision__superseded_by__isnull=False)
    if not user_can(tenant_id=tenant.pk, user=reviewer, capability=Capability.SUPERVISE):
        eligible = eligible.filter(referred_at__isnull=True)
    return eligible


def appeal_claim_next(*, tenant: Tenant, reviewer: AbstractBaseUser) -> Appeal | None:
    """Lease the oldest waiting appeal this member may take (or one whose lease ran out),
    with SELECT ... FOR UPDATE SKIP LOCKED like the queue. A member who holds a live lease
    gets it back."""
    return lease_next(
        appeals_eligible(tenant=tenant, reviewer=reviewer),
        lease=APPEAL,
        holder=reviewer,
        order_by=("received_at", "pk"),
        tenant=tenant,
        own=Appeal.objects.filter(tenant=tenant),
    )


def _held(appeal: Appeal, reviewer: AbstractBaseUser) -> Appeal:
    """Lock the appealed decision, then the appeal (the order a superseding decision takes),
    and check the reviewer holds the appeal. An appeal closed meanwhile says how."""
    list(
        Decision.objects.select_for_update(of=("self",)).filter(pk=appeal.decision_id).values("pk")
    )
    try:
        return lease_held(
            Appeal.objects.select_related("decision", "tenant").filter(pk=appeal.pk),
            lease=APPEAL,
            holder=reviewer,
        )
    except LeaseError:
        closed = Appeal.objects.filter(pk=appeal.pk, status=AppealStatus.DONE).first()
        if closed is None:
            raise
        if closed.outcome == AppealOutcome.SUPERSEDED:
            raise ReviewError(
                f"this appeal was answered by decision {closed.new_decision_id}, made on the "
                "conversation after the appeal came in; nothing is left to decide here",
                code="conflict",
            ) from None
        raise ReviewError(
            f"this appeal was already decided ({closed.get_outcome_display().lower()})",
            code="conflict",
        ) from None


@transaction.atomic
def appeal_decide(
    *,
    appeal: Appeal,
    reviewer: AbstractBaseUser,
    outcome: str,
    verdict: str = "",
    reason_code: str = "",
    notes: str = "",
) -> Appeal:
    """The reviewer's outcome on the appeal they hold.

    ``upheld``: the decision stands. ``overturned``: a new decision with ``verdict`` and
    ``reason_code`` supersedes the appealed one (as a supervisor's does; a case the
    conversation has is left as it is, reported and preserved ones above all). Both are
    final and go back to the platform by the webhook. ``referred``: the appeal goes back
    to the queue for a supervisor, and the platform hears nothing yet."""
    if outcome not in OUTCOMES:
        raise ReviewError(f"must be one of {', '.join(OUTCOMES)}; got {outcome!r}", field="outcome")
    if outcome == AppealOutcome.OVERTURNED:
        if not verdict:
            raise ReviewError("choose the new decision's verdict", field="verdict")
        if verdict == Verdict.ASK_SUPERVISOR:
            raise ReviewError("to ask a supervisor, refer the appeal instead", field="verdict")
        if verdict not in ANSWERS:
            raise ReviewError(
                "an escalation does not answer an appeal: uphold it (the account action stays) "
                "and ask a supervisor to escalate the conversation",
                field="verdict",
            )
        if not reason_code:
            raise ReviewError("choose the new decision's reason", field="reason_code")
        try:
            decision_check(verdict=verdict, reason_code=reason_code)
        except ReviewError as exc:
            raise ReviewError(exc.message, field="reason_code") from None
    locked = _held(appeal, reviewer)
    decision = locked.decision
    if decision.moderator_id == reviewer.pk:
        # appeals_eligible already keeps it from them; this guards a hand-crafted claim.
        raise ReviewError(
            "you made the appealed decision; someone else must review the appeal",
            code="forbidden",
        )
    supervisor = user_can(
        tenant_id=locked.tenant_id, user=reviewer, capability=Capability.SUPERVISE
    )
    if locked.referred and not supervisor:
        raise ReviewError("this appeal was referred to a supervisor", code="forbidden")
    question = Decision.objects.filter(supersedes=decision).values_list("pk", flat=True).first()
    if question is not None:
        # Any other later decision closed the appeal (review.appeals.superseded); only a
        # question to a supervisor leaves it open, and the supervisor's answer closes it.
        raise ReviewError(
            f"decision {decision.pk} was followed by a question to a supervisor (decision "
            f"{question}); their answer will close this appeal, so skip it for now",
            code="conflict",
        )
    now = timezone.now()
    if outcome == REFERRED:
        if supervisor:
            raise ReviewError("you are the supervisor here: uphold or overturn", field="outcome")
        if not notes.strip():
            raise ReviewError("say what the supervisor should look at", field="notes")
        lease_release(
            locked, lease=APPEAL, referred_by=reviewer, referred_at=now, referral_notes=notes
        )
        audit_record(
            tenant=locked.tenant,
            actor=reviewer,
            action=AuditAction.APPEAL_REFER,
            target_type="appeal",
            target_id=str(locked.pk),
            detail={"decision": decision.pk, "conversation": locked.conversation_id},
        )
        return locked
    new_decision = None
    if outcome == AppealOutcome.OVERTURNED:
        if verdict == decision.verdict and reason_code == decision.reason_code:
            raise ReviewError(
                "that is the appealed decision itself; choose Upheld to keep it", field="verdict"
            )
        new_decision = decision_supersede(
            tenant=locked.tenant,
            current=decision,
            supervisor=reviewer,
            verdict=verdict,
            reason_code=reason_code,
            notes=notes,
            appeal=locked.pk,
        )
    lease_release(
        locked,
        lease=APPEAL,
        status=AppealStatus.DONE,
        reviewer=reviewer,
        outcome=outcome,
        notes=notes,
        new_decision=new_decision,
        decided_at=now,
    )
    audit_record(
        tenant=locked.tenant,
        actor=reviewer,
        action=AuditAction.APPEAL_DECIDE,
        target_type="appeal",
        target_id=str(locked.pk),
        detail={
            "decision": decision.pk,
            "conversation": locked.conversation_id,
            "outcome": outcome,
            "new_decision": new_decision.pk if new_decision else None,
            "referred": locked.referred,
            "has_notes": bool(notes),
        },
    )
    appeal_webhook_enqueue(appeal=locked)
    return locked


@transaction.atomic
def appeal_release(*, appeal: Appeal, reviewer: AbstractBaseUser) -> Appeal:
    """Give the appeal back (a skip), audited."""
    locked = lease_release(_held(appeal, reviewer), lease=APPEAL)
    audit_record(
        tenant=locked.tenant,
        actor=reviewer,
        action=AuditAction.RELEASE,
        target_type="appeal",
        target_id=str(locked.pk),
        detail={"reason": "skipped"},
    )
    return locked


@transaction.atomic
def appeal_renew(*, appeal: Appeal, reviewer: AbstractBaseUser) -> Appeal:
    """Extend the lease while the appeal's page stays open; an appeal closed meanwhile
    (answered by a later decision, say) says how."""
    _held(appeal, reviewer)
    return lease_renew(Appeal.objects.filter(pk=appeal.pk), lease=APPEAL, holder=reviewer)
