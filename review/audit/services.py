"""Appending to the audit trail, and checking it."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from review.audit.checkpoints import CheckpointReport, checkpoints_check, configured_public_keys
from review.models import AuditAction, AuditChainHead, AuditCheckpoint, AuditEvent, Tenant

GENESIS = "0" * 64

# The events appended inside ``audit_events_recorded()``, when one is open.
_recorded: ContextVar[list[AuditEvent] | None] = ContextVar("audit_recorded", default=None)


def event_hash_input(event: AuditEvent) -> dict[str, Any]:
    """Every field of an event that its hash covers, including the previous hash: change
    any of them, or the order, and the chain no longer verifies. Packages carry it so a
    recipient can recompute each hash."""
    return {
        "tenant": event.tenant_id,
        "sequence": event.sequence,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "detail": event.detail,
        "ip": event.ip,
        "created_at": event.created_at.isoformat(),
        "prev_hash": event.prev_hash,
    }


def canonical_hash(hash_input: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON (sorted keys, no spaces) of ``hash_input``."""
    canonical = json.dumps(hash_input, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_hash(event: AuditEvent) -> str:
    return canonical_hash(event_hash_input(event))


def _stored_ip(ip: str | None) -> str | None:
    """The address as the database will hand it back, so the hash covers what is read:
    GenericIPAddressField keeps an empty one as NULL and an IPv6 one in its short lower-case
    form (gunicorn on a unix socket gives an empty REMOTE_ADDR). One that is no address at
    all is not kept."""
    if not ip:
        return None
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return None
    return AuditEvent._meta.get_field("ip").get_prep_value(ip) or None


def _stored_text(text: str, where: str) -> str:
    """``text`` if jsonb takes it. The error names the key, never the text: it may be chat."""
    if "\x00" in text:
        raise ValueError(f"audit {where}: holds a NUL character, which PostgreSQL cannot store")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError(
            f"audit {where}: holds a lone surrogate, which PostgreSQL cannot store"
        ) from None
    return text


def _stored_value(value: Any, where: str) -> Any:
    """``value`` (already through json) as PostgreSQL's jsonb will hand it back, or a
    ValueError naming ``where`` for what jsonb refuses (Python's json writes it anyway).

    jsonb keeps a number as a decimal and writes it back without an exponent, so a float
    Python writes with one (1e+16, from 1e16 up) is read back as a whole number, and -0.0
    as 0.0; an integer of any size comes back exactly. A float written without an exponent
    (0.1, 1e-07) reads back as the same float."""
    if isinstance(value, dict):
        return {
            _stored_text(key, f"{where}[{key!r}] (its key)"): _stored_value(
                item, f"{where}[{key!r}]"
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_stored_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, str):
        return _stored_text(value, where)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(
                f"audit {where}: {value!r} is not a finite number; PostgreSQL cannot store it"
            )
        if value == 0:
            return 0.0
        written = repr(value)
        return int(Decimal(written)) if "e+" in written else value
    return value


def _stored_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail exactly as the database will read it back, so the hash covers what is
    read: a JSON round trip (tuples become lists, keys strings), then what jsonb changes.
    What PostgreSQL refuses is refused here on every database, before the chain is locked,
    so an append that cannot be stored fails alike on SQLite and writes nothing."""
    try:
        plain = json.loads(json.dumps(detail))
    except ValueError:
        # An integer too long for Python to write (over 4,300 digits): find whose it is.
        for key, item in detail.items():
            try:
                json.dumps(item)
            except ValueError:
                raise ValueError(f"audit detail[{key!r}]: cannot be written as JSON") from None
        raise
    return _stored_value(plain, "detail")


def audit_record(
    *,
    tenant: Tenant,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target_type: str = "",
    target_id: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event to the tenant's chain. Appends to one chain are serialised by the
    head row's lock, so concurrent requests never fork it."""
    user = actor if isinstance(actor, AbstractBaseUser) else None
    stored_detail = _stored_detail(detail or {})
    with transaction.atomic():
        AuditChainHead.objects.get_or_create(tenant=tenant)
        head = AuditChainHead.objects.select_for_update().get(tenant=tenant)
        event = AuditEvent(
            tenant=tenant,
            sequence=head.sequence + 1,
            actor=user,
            actor_label=actor_label or (user.get_username() if user else "system"),
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            detail=stored_detail,
            ip=_stored_ip(ip),
            created_at=timezone.now(),
            prev_hash=head.hash,
        )
        event.hash = event_hash(event)
        event.save()
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
    collected = _recorded.get()
    if collected is not None:
        collected.append(event)
    return event


@contextmanager
def audit_events_recorded() -> Iterator[list[AuditEvent]]:
    """The events ``audit_record`` appends inside the block: ``tenant_page`` asks whether a
    page already recorded what it showed before it records the page view."""
    events: list[AuditEvent] = []
    token = _recorded.set(events)
    try:
        yield events
    finally:
        _recorded.reset(token)


def audit_page_view(
    *,
    tenant: Tenant,
    actor: AbstractBaseUser,
    page: str,
    path: str,
    filters: Iterable[str],
    ip: str | None,
) -> AuditEvent:
    """A supervisor's, admin's or auditor's view of a page (``page`` is its URL name). The
    query's parameter names are kept, never their values: a filter may hold searched text."""
    return audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.REPORT_VIEW,
        target_type="page",
        target_id=page,
        detail={"path": path, "filters": sorted(set(filters))},
        ip=ip,
    )


@dataclass(frozen=True)
class BrokenLink:
    tenant: Tenant
    sequence: int
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event {self.event_id}" if self.event_id else "a missing event"
        return f"tenant {self.tenant.slug!r}: link #{self.sequence} ({where}): {self.problem}"


@dataclass(frozen=True)
class AuditCheck:
    """What ``audit_check`` found for one tenant: the events verified, the first broken link
    (of the chain or of its signed checkpoints) and the checkpoints' report (None when the
    chain broke before they could be checked)."""

    count: int
    broken: BrokenLink | None
    checkpoints: CheckpointReport | None


def audit_verify(*, tenant: Tenant) -> tuple[int, BrokenLink | None]:
    """Walk the tenant's chain in order, then its signed checkpoints with the configured
    key; return how many events verified and the first broken link, if any."""
    check = audit_check(tenant=tenant)
    return check.count, check.broken


def audit_check(*, tenant: Tenant, public_keys: list[Ed25519PublicKey] | None = None) -> AuditCheck:
    """``audit_verify``, with what it found of the checkpoints. ``public_keys``: the keys
    to check checkpoint signatures with (default: the configured signing key's)."""
    wanted = set(AuditCheckpoint.objects.filter(tenant=tenant).values_list("sequence", flat=True))
    hashes: dict[int, str] = {}
    previous, expected, count = GENESIS, 1, 0
    for event in _events(tenant):
        if event.sequence != expected:
            broken = BrokenLink(tenant, expected, None, f"sequence jumps to {event.sequence}")
            return AuditCheck(count, broken, None)
        if event.prev_hash != previous:
            broken = BrokenLink(
                tenant, event.sequence, event.pk, "prev_hash does not match the event before"
            )
            return AuditCheck(count, broken, None)
        if event_hash(event) != event.hash:
            broken = BrokenLink(
                tenant, event.sequence, event.pk, "contents changed: hash does not match"
            )
            return AuditCheck(count, broken, None)
        if event.sequence in wanted:
            hashes[event.sequence] = event.hash
        previous, expected, count = event.hash, expected + 1, count + 1
    head = AuditChainHead.objects.filter(tenant=tenant).first()
    if head is None and count:
        # Every append moves the head: events without one lost it (and with it, what the
        # last event was: the newest events could have gone too).
        broken = BrokenLink(tenant, count + 1, None, f"the chain has {count} events but no head")
        return AuditCheck(count, broken, None)
    if head is not None and (head.sequence, head.hash) != (count, previous):
        broken = BrokenLink(
            tenant,
            count + 1,
            None,
            f"the chain ends at #{count} but the head says #{head.sequence}",
        )
        return AuditCheck(count, broken, None)
    report = checkpoints_check(
        tenant=tenant,
        hashes=hashes,
        public_keys=configured_public_keys() if public_keys is None else public_keys,
    )
    broken = None
    if report.problem is not None:
        at = report.problem.sequence
        event = AuditEvent.objects.filter(tenant=tenant, sequence=at).only("pk").first()
        event_id = event.pk if event is not None else None
        broken = BrokenLink(tenant, at, event_id, report.problem.problem)
    return AuditCheck(count, broken, report)


def _events(tenant: Tenant) -> Iterator[AuditEvent]:
    return AuditEvent.objects.filter(tenant=tenant).order_by("sequence").iterator(chunk_size=2000)
