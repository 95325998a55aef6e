"""Leases: a row held by one holder for a while. The one helper behind the four leases.

- a queue item claimed by a moderator (``QUEUE_ITEM``),
- a second review claimed by a member (``SECOND_REVIEW``),
- an appeal claimed by a member (``APPEAL``),
- an NCMEC submission held by one run of the flow, named by a token (``NCMEC_SUBMISSION``).

A ``Lease`` names the fields a model keeps its lease in (the holder, the time it runs out,
and the status that says "leased"); the functions take it and a row or a queryset:
``lease_next`` (SELECT ... FOR UPDATE SKIP LOCKED, expired leases first), ``lease_take``
(one given row), ``lease_held`` (lock the row and check the caller still holds it),
``lease_renew``, ``lease_release``, ``lease_is_live``, and ``lease_live_q`` / ``lease_free_q``
for selectors. A lease expires by time alone: nothing sweeps it, the next taker takes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from review.audit.services import audit_record
from review.models import AuditAction, ReviewError, Tenant

Row = TypeVar("Row", bound=models.Model)


class LeaseError(ReviewError):
    """The caller does not hold the lease it acts under."""

    code = "lease_lost"


class LeaseNotHeld(LeaseError):
    """Someone else holds the lease, or nobody does."""


class LeaseExpired(LeaseError):
    """The caller held the lease, but it ran out."""


@dataclass(frozen=True)
class Lease:
    """Where a model keeps its lease, how long one lasts, and how to speak of it."""

    holder: str  # the field naming the holder: a member (a foreign key) or a token
    until: str  # the field with the moment the lease runs out
    duration: timedelta
    status: str  # the field whose value says whether the row is leased
    leased: str  # that value while leased
    free: str  # the value a released row goes back to
    noun: str  # "this item": for error messages
    again: str  # how to get it again: for error messages
    target_type: str = ""  # audit target of a claim; empty: claims are audited by the caller

    def holder_value(self, row: models.Model) -> Any:
        """The holder stored on ``row``: a member's id for a foreign key, else the value."""
        field = row._meta.get_field(self.holder)
        return getattr(row, field.attname)

    def holder_key(self, holder: Any) -> Any:
        """What ``holder`` is stored as: a member's pk, or the token itself."""
        return holder.pk if isinstance(holder, models.Model) else holder


def member_lease(*, noun: str, again: str, target_type: str) -> Lease:
    """A ten-minute lease held by a member: ``status`` claimed/waiting, ``claimed_by`` and
    ``lease_expires_at``, with the claims audited on ``target_type``."""
    return Lease(
        holder="claimed_by",
        until="lease_expires_at",
        duration=timedelta(minutes=10),
        status="status",
        leased="claimed",
        free="waiting",
        noun=noun,
        again=again,
        target_type=target_type,
    )


QUEUE_ITEM = member_lease(
    noun="this item", again="take it from the queue", target_type="queue_item"
)
SECOND_REVIEW = member_lease(
    noun="this second review", again="take it from the list", target_type="second_review"
)
APPEAL = member_lease(
    noun="this appeal", again="take it from the appeals queue", target_type="appeal"
)
# Long enough for every step with its retries; renewed at each step.
NCMEC_SUBMISSION = Lease(
    holder="lease_token",
    until="lease_until",
    duration=timedelta(minutes=15),
    status="state",
    leased="running",
    free="failed",
    noun="this NCMEC submission",
    again="submit it again",
)


def lease_live_q(lease: Lease, *, now: Any = None) -> Q:
    """Rows under a lease that has not run out."""
    now = now or timezone.now()
    return Q(**{lease.status: lease.leased, f"{lease.until}__gt": now})


def lease_expired_q(lease: Lease, *, now: Any = None) -> Q:
    """Rows still marked leased whose lease ran out: free in all but name."""
    now = now or timezone.now()
    return Q(**{lease.status: lease.leased, f"{lease.until}__lte": now})


def lease_free_q(lease: Lease, *, now: Any = None) -> Q:
    """Rows anyone may take: waiting, or leased with the lease run out."""
    return Q(**{lease.status: lease.free}) | lease_expired_q(lease, now=now)


def lease_is_live(row: models.Model, *, lease: Lease) -> bool:
    """Whether ``row`` is leased now (to anyone)."""
    until = getattr(row, lease.until)
    return (
        getattr(row, lease.status) == lease.leased and until is not None and until > timezone.now()
    )


def lease_take(row: Row, *, lease: Lease, holder: Any) -> Row:
    """Lease ``row`` (already locked by the caller) to ``holder`` and save it. Refused while
    someone else's lease on it is live."""
    if lease_is_live(row, lease=lease) and lease.holder_value(row) != lease.holder_key(holder):
        raise LeaseNotHeld(f"{lease.noun} is leased to someone else right now")
    setattr(row, lease.status, lease.leased)
    setattr(row, lease.holder, holder)
    setattr(row, lease.until, timezone.now() + lease.duration)
    row.save()
    return row


def lease_next(
    queryset: models.QuerySet[Row],
    *,
    lease: Lease,
    holder: Any,
    order_by: tuple[str, ...],
    tenant: Tenant,
    own: models.QuerySet[Row] | None = None,
) -> Row | None:
    """Lease the first row of ``queryset`` in ``order_by`` whose lease ran out (it was the
    most pressing when taken), else the first free one, to ``holder``, and audit the claim
    (``lease.target_type``). A holder with a live lease among ``own`` (default: the
    queryset) gets that row back instead of a second one.

    SELECT ... FOR UPDATE SKIP LOCKED: concurrent takers each lock a different row and never
    wait on one another, so no row is handed to two holders. Two index-served queries rather
    than one OR, which would sort every waiting row."""
    now = timezone.now()
    mine = Q(**{lease.holder: holder}) & lease_live_q(lease, now=now)
    with transaction.atomic():
        held = (queryset if own is None else own).filter(mine).order_by(lease.until).first()
        if held is not None:
            return held
        locking = queryset.select_for_update(skip_locked=True, of=("self",))
        row = (
            locking.filter(lease_expired_q(lease, now=now)).order_by(*order_by).first()
            or locking.filter(**{lease.status: lease.free}).order_by(*order_by).first()
        )
        if row is None:
            return None
        expired = getattr(row, lease.status) == lease.leased
        previous = lease.holder_value(row) if expired else None
        lease_take(row, lease=lease, holder=holder)
        if lease.target_type:
            leased: Any = row
            audit_record(
                tenant=tenant,
                actor=holder,
                action=AuditAction.CLAIM,
                target_type=lease.target_type,
                target_id=str(row.pk),
                detail={"conversation": leased.conversation_id, "expired_lease_of": previous},
            )
    return row


def lease_held(
    queryset: models.QuerySet[Row], *, lease: Lease, holder: Any, live: bool = True
) -> Row:
    """Lock the one row of ``queryset`` and check that ``holder`` holds its lease.

    ``live`` (members): the row must be leased to ``holder`` (else LeaseNotHeld) and the
    lease not run out (else LeaseExpired). ``live=False`` (a run named by a token): only
    that nobody else took the lease over; such a holder may outlast its lease as long as
    nobody took it. Call inside a transaction."""
    row = queryset.select_for_update().get()
    mine = lease.holder_value(row) == lease.holder_key(holder)
    if not mine or (live and getattr(row, lease.status) != lease.leased):
        raise LeaseNotHeld(f"{lease.noun} is not leased to you; {lease.again} first")
    if live and not lease_is_live(row, lease=lease):
        raise LeaseExpired(f"your lease on {lease.noun} ran out; {lease.again} again")
    return row


def lease_renew(
    queryset: models.QuerySet[Row],
    *,
    lease: Lease,
    holder: Any,
    live: bool = True,
    fields: dict[str, Any] | None = None,
) -> Row:
    """Extend the lease on the one row of ``queryset`` by ``lease.duration`` from now,
    setting ``fields`` in the same save. A caller who does not hold it is refused with
    LeaseNotHeld, or LeaseExpired once it ran out (see ``lease_held`` for ``live``)."""
    with transaction.atomic():
        row = lease_held(queryset, lease=lease, holder=holder, live=live)
        for name, value in (fields or {}).items():
            setattr(row, name, value)
        setattr(row, lease.until, timezone.now() + lease.duration)
        row.save(update_fields=None if fields else [lease.until])
    return row


def lease_release(row: Row, *, lease: Lease, **fields: Any) -> Row:
    """End the lease on ``row``, which the caller locked and checked (``lease_held``): no
    holder, no end time, status back to ``lease.free``, and ``fields`` set in the same save."""
    holder_field = row._meta.get_field(lease.holder)
    setattr(row, lease.status, lease.free)
    setattr(row, lease.holder, None if holder_field.null else "")
    setattr(row, lease.until, None)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row
