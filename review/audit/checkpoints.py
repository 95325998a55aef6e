"""Signed checkpoints of the audit chains: what makes the trail hold against its own database.

The hash chain (``review.audit.services``) shows an edited, removed or inserted event to
anyone who trusts the database it reads. Whoever can write to that database (its owner, a
restored backup, an intruder with the credentials) could rewrite every event after a point
and hash them again, and the chain would verify. So every ``ARTEMIS_AUDIT_CHECKPOINT_SECONDS``
(celery beat, ``review.tasks.sign_audit_checkpoints``) the head of each tenant's chain is
signed with the provider's Ed25519 key, the one that signs referral packages
(``ARTEMIS_PACKAGE_SIGNING_KEY``). The key lives in the environment, not the database.

``manage.py verify_audit`` then also checks, per tenant:
- every checkpoint's signature, with the configured key or a published public key;
- that the event at each checkpoint's sequence has the hash it signed (so no event at or
  before a checkpoint changed);
- that each checkpoint names the one before it (none removed from the middle);
- that no event older than two checkpoint intervals lies beyond the newest checkpoint: if
  checkpoints stopped, or the newest were removed with the events after them rewritten, it
  says so. The events of the last interval or two are covered by the chain alone.

What is signed, so that anyone with the public key can check a checkpoint without Artemis:
the bytes ``artemis-audit-checkpoint-v1`` and a newline, then the canonical JSON (sorted
keys, no spaces) of ``{"tenant", "sequence", "hash", "signed_at", "previous"}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from review.cases.referral import signing
from review.models import AuditChainHead, AuditCheckpoint, AuditEvent, ReviewError, Tenant

logger = logging.getLogger("artemis.audit")

DOMAIN = b"artemis-audit-checkpoint-v1\n"


def checkpoint_message(
    *, tenant_id: int, sequence: int, hash: str, signed_at: datetime, previous: str
) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    body = {
        "tenant": tenant_id,
        "sequence": sequence,
        "hash": hash,
        "signed_at": signed_at.isoformat(),
        "previous": previous,
    }
    return DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _link(checkpoint: AuditCheckpoint) -> str:
    """What the next checkpoint's ``previous`` holds: the SHA-256 of this one's signature."""
    return hashlib.sha256(bytes.fromhex(checkpoint.signature)).hexdigest()


def audit_checkpoint_sign(*, tenant: Tenant) -> AuditCheckpoint | None:
    """Sign the tenant's chain head; None when the head has not moved since the last
    checkpoint (or the chain is empty). Raises ReviewError naming the setting when no key is
    configured. The head's row lock keeps appends and other signers out meanwhile."""
    key = signing.signing_key()
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(tenant=tenant).first()
        if head is None or head.sequence == 0:
            return None
        last = AuditCheckpoint.objects.filter(tenant=tenant).order_by("-sequence").first()
        if last is not None and last.sequence >= head.sequence:
            return None
        signed_at = timezone.now()
        previous = _link(last) if last is not None else ""
        message = checkpoint_message(
            tenant_id=tenant.pk,
            sequence=head.sequence,
            hash=head.hash,
            signed_at=signed_at,
            previous=previous,
        )
        return AuditCheckpoint.objects.create(
            tenant=tenant,
            sequence=head.sequence,
            hash=head.hash,
            signed_at=signed_at,
            previous=previous,
            key_fingerprint=signing.fingerprint(key.public_key()),
            signature=signing.sign(message, key).hex(),
        )


def audit_checkpoints_sign() -> int:
    """Sign every tenant's chain head that moved; returns how many were signed. Without a
    key it signs nothing and says so once in the log (no referral package can be signed
    either: the case page says that to the people who need it)."""
    try:
        signing.signing_key()
    except ReviewError:
        logger.warning(
            "audit checkpoints not signed: %s is not set on this worker", signing.SETTING
        )
        return 0
    signed = 0
    for tenant in Tenant.objects.order_by("pk"):
        if audit_checkpoint_sign(tenant=tenant) is not None:
            signed += 1
    return signed


def configured_public_keys() -> list[Ed25519PublicKey]:
    """The public half of the configured signing key, if one is configured and readable."""
    try:
        return [signing.signing_key().public_key()]
    except ReviewError:
        return []


@dataclass(frozen=True)
class CheckpointProblem:
    sequence: int
    problem: str


@dataclass(frozen=True)
class CheckpointReport:
    """What ``checkpoints_check`` found for one tenant."""

    count: int  # checkpoints
    newest: AuditCheckpoint | None
    signatures_checked: bool  # False: no public key was given for them
    problem: CheckpointProblem | None


def checkpoints_check(
    *,
    tenant: Tenant,
    hashes: dict[int, str],
    public_keys: list[Ed25519PublicKey],
    now: datetime | None = None,
) -> CheckpointReport:
    """Check the tenant's checkpoints against its chain. ``hashes`` holds the verified
    chain's hash by sequence, for the checkpoints' sequences at least (``audit_verify``
    gathers them as it walks); ``public_keys`` the keys to check signatures with (none:
    the signatures go unchecked, and the report says so)."""
    keys = {signing.fingerprint(k): k for k in public_keys}
    checkpoints = list(AuditCheckpoint.objects.filter(tenant=tenant).order_by("sequence"))
    previous: AuditCheckpoint | None = None
    for checkpoint in checkpoints:
        problem = _checkpoint_problem(tenant, checkpoint, previous, hashes, keys)
        if problem:
            found = CheckpointProblem(checkpoint.sequence, problem)
            return CheckpointReport(len(checkpoints), previous, bool(keys), found)
        previous = checkpoint
    newest = previous
    uncovered = _uncovered(tenant, newest, bool(keys), now or timezone.now())
    return CheckpointReport(len(checkpoints), newest, bool(keys), uncovered)


def _checkpoint_problem(
    tenant: Tenant,
    checkpoint: AuditCheckpoint,
    previous: AuditCheckpoint | None,
    hashes: dict[int, str],
    keys: dict[str, Ed25519PublicKey],
) -> str:
    signed = f"the checkpoint signed {checkpoint.signed_at.isoformat()}"
    if checkpoint.sequence not in hashes:
        return f"{signed} covers event #{checkpoint.sequence}, which the chain does not reach"
    if hashes[checkpoint.sequence] != checkpoint.hash:
        return (
            f"event #{checkpoint.sequence} is not the event {signed} covers: the chain up to "
            "it was rewritten after it was signed"
        )
    expected = _link(previous) if previous is not None else ""
    if checkpoint.previous != expected:
        return f"{signed} does not follow the checkpoint before it: a checkpoint was removed"
    if keys:
        key = keys.get(checkpoint.key_fingerprint)
        if key is None:
            return (
                f"{signed} was signed with key {checkpoint.key_fingerprint}, which is not "
                "among the keys given: pass its public key with --public-key"
            )
        message = checkpoint_message(
            tenant_id=tenant.pk,
            sequence=checkpoint.sequence,
            hash=checkpoint.hash,
            signed_at=checkpoint.signed_at,
            previous=checkpoint.previous,
        )
        try:
            signature = bytes.fromhex(checkpoint.signature)
        except ValueError:
            signature = b""
        if not signing.signature_valid(message, signature, key):
            return f"{signed} does not carry a valid signature: it was altered or forged"
    return ""


def _uncovered(
    tenant: Tenant, newest: AuditCheckpoint | None, signing_expected: bool, now: datetime
) -> CheckpointProblem | None:
    """The oldest event beyond the newest checkpoint, if it is older than two intervals.
    Applies once the tenant has a checkpoint, or wherever a key says there should be one."""
    if newest is None and not signing_expected:
        return None
    after = newest.sequence if newest is not None else 0
    oldest = (
        AuditEvent.objects.filter(tenant=tenant, sequence__gt=after)
        .order_by("sequence")
        .values_list("sequence", "created_at")
        .first()
    )
    if oldest is None:
        return None
    interval = timedelta(seconds=settings.ARTEMIS_AUDIT_CHECKPOINT_SECONDS)
    sequence, created_at = oldest
    if now - created_at <= 2 * interval:
        return None
    since = f"the newest checkpoint covers #{after}" if newest else "no checkpoint was signed"
    return CheckpointProblem(
        sequence,
        f"event #{sequence} ({created_at.isoformat()}) and those after it are covered by no "
        f"signed checkpoint ({since}), though one is signed every "
        f"{settings.ARTEMIS_AUDIT_CHECKPOINT_SECONDS} s: signing stopped (is celery beat "
        "running, with the signing key on the maintenance worker?) or the newest checkpoints "
        "were removed",
    )
