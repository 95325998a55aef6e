"""Blind second reviews: sampling decisions, handing them to another member, recording the
second verdict, and a supervisor's answer to a disagreement.

Which decisions are sampled: a keyed hash of (tenant, decision id) mapped to [0, 1) and
compared with the tenant's ``second_review_share``. Chosen over "every k-th decision"
because it needs no shared counter (no row lock on the decision path), it cannot be gamed
by a moderator who counts their decisions, and it is deterministic: the same decision always
gets the same answer, so tests and an auditor can recompute it. The key is derived from
SECRET_KEY, so reading the source does not tell a moderator which of their decisions will
be checked. Over many decisions the sampled share converges on the configured one; over a
handful it varies, as any fair sample does.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.crypto import salted_hmac

from review.audit.services import audit_record
from review.decisions.services import decision_check
from review.models import (
    AuditAction,
    Decision,
    Resolution,
    ReviewError,
    SecondReview,
    SecondReviewStatus,
    Tenant,
    Verdict,
)
from review.queue.leases import SECOND_REVIEW, lease_held, lease_next, lease_release, lease_renew

# A supervisor question already goes to a supervisor, and a second reviewer must commit
# to a verdict: neither side of a second review is "ask a supervisor".
NOT_SAMPLED = frozenset({Verdict.ASK_SUPERVISOR})
SECOND_VERDICTS = [v for v in Verdict if v not in NOT_SAMPLED]


def second_review_sampled(*, tenant_id: int, decision_id: int, share: float) -> bool:
    """Whether this decision falls in the tenant's second-review sample (deterministic)."""
    share = min(max(float(share), 0.0), 1.0)
    if share <= 0.0:
        return False
    digest = salted_hmac(
        "artemis.second_review", f"{tenant_id}:{decision_id}", algorithm="sha256"
    ).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def second_review_offer(*, decision: Decision) -> SecondReview | None:
    """Create the second-review task for a freshly recorded decision if it is sampled.
    Runs inside the decision's transaction: both are kept, or neither."""
    tenant = decision.tenant
    if decision.verdict in NOT_SAMPLED or not second_review_sampled(
        tenant_id=tenant.pk, decision_id=decision.pk, share=tenant.second_review_share
    ):
        return None
    return SecondReview.objects.create(
        tenant=tenant,
        decision=decision,
        conversation_id=decision.conversation_id,
        created_at=decision.created_at,
    )


def _eligible(*, tenant: Tenant, reviewer: AbstractBaseUser):  # type: ignore[no-untyped-def]
    """Second reviews this member may take: never one on a conversation they decided."""
    decided_by_reviewer = Decision.objects.filter(
        tenant=tenant, conversation=OuterRef("conversation"), moderator=reviewer
    )
    return SecondReview.objects.filter(tenant=tenant).exclude(Exists(decided_by_reviewer))


def second_review_claim_next(*, tenant: Tenant, reviewer: AbstractBaseUser) -> SecondReview | None:
    """Lease the oldest waiting second review (or one whose lease ran out) to ``reviewer``,
    with SELECT ... FOR UPDATE SKIP LOCKED like the queue. A member who holds a live lease
    gets it back. Nobody is ever handed a review of a conversation they decided on."""
    return lease_next(
        _eligible(tenant=tenant, reviewer=reviewer),
        lease=SECOND_REVIEW,
        holder=reviewer,
        order_by=("created_at", "pk"),
        tenant=tenant,
        own=SecondReview.objects.filter(tenant=tenant),
    )


def _held(review: SecondReview, reviewer: AbstractBaseUser) -> SecondReview:
    return lease_held(
        SecondReview.objects.select_related("decision").filter(pk=review.pk),
        lease=SECOND_REVIEW,
        holder=reviewer,
    )


@transaction.atomic
def second_review_record(
    *,
    review: SecondReview,
    reviewer: AbstractBaseUser,
    verdict: str,
    reason_code: str,
    notes: str = "",
) -> SecondReview:
    """Record the blind verdict and compare it with the first. The first decision is left
    exactly as it was; a disagreement waits in the supervisors' inbox."""
    if verdict in NOT_SAMPLED:
        raise ReviewError(
            "a second review needs a verdict; skip it if you cannot give one", code="invalid"
        )
    decision_check(verdict=verdict, reason_code=reason_code)
    locked = _held(review, reviewer)
    first = locked.decision
    if first.moderator_id == reviewer.pk:
        # _eligible already keeps it from them; this guards a hand-crafted claim.
        raise ReviewError(
            "you made the first decision; someone else must review it", code="forbidden"
        )
    now = timezone.now()
    locked.status = SecondReviewStatus.DONE
    locked.reviewer = reviewer
    locked.verdict = verdict
    locked.reason_code = reason_code
    locked.notes = notes
    locked.agrees = verdict == first.verdict
    locked.completed_at = now
    locked.lease_expires_at = None
    locked.save()
    audit_record(
        tenant=locked.tenant,
        actor=reviewer,
        action=AuditAction.SECOND_REVIEW,
        target_type="second_review",
        target_id=str(locked.pk),
        detail={
            "decision": first.pk,
            "conversation": locked.conversation_id,
            "verdict": verdict,
            "reason_code": reason_code,
            "agrees": locked.agrees,
            "has_notes": bool(notes),
        },
    )
    return locked


@transaction.atomic
def second_review_release(*, review: SecondReview, reviewer: AbstractBaseUser) -> SecondReview:
    """Give the second review back (a skip), audited."""
    locked = lease_release(_held(review, reviewer), lease=SECOND_REVIEW)
    audit_record(
        tenant=locked.tenant,
        actor=reviewer,
        action=AuditAction.RELEASE,
        target_type="second_review",
        target_id=str(locked.pk),
        detail={"reason": "skipped"},
    )
    return locked


def second_review_renew(*, review: SecondReview, reviewer: AbstractBaseUser) -> SecondReview:
    """Extend the lease while the second review's page stays open."""
    return lease_renew(
        SecondReview.objects.filter(pk=review.pk), lease=SECOND_REVIEW, holder=reviewer
    )


def disagreement_resolve(
    *,
    review: SecondReview,
    supervisor: AbstractBaseUser,
    decision: Decision | None = None,
) -> SecondReview:
    """Close a disagreement: upheld (no new decision), or answered by ``decision``, the
    supervisor's decision that superseded the first one. Call inside a transaction."""
    locked = SecondReview.objects.select_for_update().select_related("decision").get(pk=review.pk)
    if locked.agrees is not False:
        raise ReviewError("this second review agreed with the decision; nothing to resolve")
    if locked.resolved_at is not None:
        raise ReviewError("this disagreement was already resolved")
    outcome = (
        Resolution.OVERTURNED
        if decision is not None and decision.verdict != locked.decision.verdict
        else Resolution.UPHELD
    )
    locked.resolution = outcome
    locked.resolved_by = supervisor
    locked.resolved_at = timezone.now()
    locked.resolution_decision = decision
    locked.save(update_fields=["resolution", "resolved_by", "resolved_at", "resolution_decision"])
    audit_record(
        tenant=locked.tenant,
        actor=supervisor,
        action=AuditAction.RESOLVE,
        target_type="second_review",
        target_id=str(locked.pk),
        detail={
            "decision": locked.decision_id,
            "resolution": outcome,
            "resolution_decision": decision.pk if decision else None,
        },
    )
    return locked


@transaction.atomic
def disagreement_uphold(*, review: SecondReview, supervisor: AbstractBaseUser) -> SecondReview:
    """The supervisor keeps the first decision as it is."""
    return disagreement_resolve(review=review, supervisor=supervisor)
