"""An open appeal whose decision is replaced by anything but the appeal's own outcome (a
supervisor's superseding decision, a moderator's decision on new messages): the replacing
decision answers it. The appeal is closed as ``superseded`` in the same transaction, audited,
and the platform is told by the appeal webhook, with the new decision's account action and
statement of reasons. Nobody can uphold or overturn it after that, so it never lingers as an
appeal that only a supervisor could take and no supervisor could decide.

Kept apart from ``services``: the decision services call it, and ``services`` builds on them.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from review.audit.services import audit_record
from review.models import Appeal, AppealOutcome, AppealStatus, AuditAction, Decision, Verdict
from review.outbound.webhooks import appeal_webhook_enqueue
from review.queue.leases import APPEAL, lease_release


@transaction.atomic
def appeal_close_superseded(
    *, decision: Decision, new_decision: Decision, by: AbstractBaseUser
) -> Appeal | None:
    """Close the open appeal of ``decision``, if it has one, as answered by
    ``new_decision``, which ``by`` just made in this transaction. A lease on the appeal
    ends with it: its holder's next submit is told which decision answered it.

    A question to a supervisor (``ask_supervisor``) does not close it; the answer does,
    reaching back past the question to the appealed decision.

    Locks the appealed decision before the appeal, the order every appeal outcome takes, so
    an outcome being recorded at the same moment waits rather than deadlocks."""
    if new_decision.verdict == Verdict.ASK_SUPERVISOR:
        # A question answers nothing: the supervisor's answer, which supersedes the
        # question, closes the appeal (the platform still carries out the appealed action).
        return None
    while decision.verdict == Verdict.ASK_SUPERVISOR and decision.supersedes_id is not None:
        # The answer to a question: the appeal, if any, is of the decision asked about.
        decision = Decision.objects.get(pk=decision.supersedes_id)
    list(Decision.objects.select_for_update(of=("self",)).filter(pk=decision.pk).values("pk"))
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("tenant", "conversation", "decision")
        .filter(decision=decision)
        .exclude(status=AppealStatus.DONE)
        .first()
    )
    if appeal is None:
        return None
    lease_holder = appeal.claimed_by_id
    lease_release(
        appeal,
        lease=APPEAL,
        status=AppealStatus.DONE,
        reviewer=by,
        outcome=AppealOutcome.SUPERSEDED,
        new_decision=new_decision,
        decided_at=timezone.now(),
    )
    audit_record(
        tenant=appeal.tenant,
        actor=by,
        action=AuditAction.APPEAL_DECIDE,
        target_type="appeal",
        target_id=str(appeal.pk),
        detail={
            "decision": decision.pk,
            "conversation": appeal.conversation_id,
            "outcome": AppealOutcome.SUPERSEDED.value,
            "new_decision": new_decision.pk,
            "referred": appeal.referred,
            "lease_ended_for": lease_holder,
        },
    )
    appeal_webhook_enqueue(appeal=appeal)
    return appeal
