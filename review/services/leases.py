"""Taking the next piece of work under a lease: the queue's items and the second reviews.

Both models have ``status`` (waiting, claimed, ...), ``claimed_by``, ``lease_expires_at``
and ``conversation``; what differs is which rows a person may take and in what order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from review.models import AuditAction, Tenant
from review.services.audit import audit_record

LEASE = timedelta(minutes=10)
WAITING, CLAIMED = "waiting", "claimed"


Row = TypeVar("Row", bound=models.Model)


def lease_take_next(
    *,
    tenant: Tenant,
    holder: AbstractBaseUser,
    own: models.QuerySet[Row],
    candidates: models.QuerySet[Row],
    order: tuple[str, ...],
    target_type: str,
) -> Row | None:
    """Lease the first of ``candidates`` in ``order`` whose lease ran out (it was the most
    pressing when taken), else the first waiting one, to ``holder``, and audit the claim.
    Someone who already holds a live lease among ``own`` gets that row back instead.

    SELECT ... FOR UPDATE SKIP LOCKED: concurrent takers each lock a different row and never
    wait on one another, so no row is handed to two people. Two index-served queries rather
    than one OR, which would sort every waiting row."""
    now = timezone.now()
    with transaction.atomic():
        held = (
            own.filter(status=CLAIMED, claimed_by=holder, lease_expires_at__gt=now)
            .order_by("lease_expires_at")
            .first()
        )
        if held is not None:
            return held
        locking = candidates.select_for_update(skip_locked=True, of=("self",))
        row = (
            locking.filter(status=CLAIMED, lease_expires_at__lte=now).order_by(*order).first()
            or locking.filter(status=WAITING).order_by(*order).first()
        )
        if row is None:
            return None
        leased: Any = row
        previous = leased.claimed_by_id if leased.status == CLAIMED else None
        leased.status, leased.claimed_by = CLAIMED, holder
        leased.lease_expires_at = now + LEASE
        leased.save(update_fields=["status", "claimed_by", "lease_expires_at"])
        audit_record(
            tenant=tenant,
            actor=holder,
            action=AuditAction.CLAIM,
            target_type=target_type,
            target_id=str(leased.pk),
            detail={"conversation": leased.conversation_id, "expired_lease_of": previous},
        )
    return row
