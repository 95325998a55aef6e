"""The tenant policy: change it (with a reason, as a numbered version), roll it back, and
apply threshold and severity changes to the waiting queue.

Policy fields live on ``Tenant``; each change stores the whole policy before and after in a
``PolicyVersion``. The webhook secret is write-only: versions record whether it changed,
never its value, so a rollback leaves the current secret in place.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from review.audit.services import audit_record
from review.models import AuditAction, PolicyVersion, ReviewError, Tenant
from review.outbound import addresses as outbound
from review.queue.services import Reevaluation, queue_reevaluate
from scoring import characteristics

POLICY_FIELDS = (
    "flag_threshold",
    "urgent_threshold",
    "severity_weights",
    "second_review_share",
    "retention_days",
    "appeal_target_days",
    "webhook_url",
)
# Changing these re-evaluates the queue.
QUEUE_FIELDS = frozenset({"flag_threshold", "urgent_threshold", "severity_weights"})
MAX_SEVERITY_WEIGHT = 10.0
MAX_RETENTION_DAYS = 3650
MAX_APPEAL_TARGET_DAYS = 365


def policy_snapshot(tenant: Tenant) -> dict[str, Any]:
    """The tenant's policy as plain data, the secret replaced by whether one is set."""
    snapshot = {field: getattr(tenant, field) for field in POLICY_FIELDS}
    snapshot["severity_weights"] = {
        c.key: float((tenant.severity_weights or {}).get(c.key, c.severity))
        for c in characteristics.CHARACTERISTICS
    }
    snapshot["webhook_secret_set"] = bool(tenant.webhook_secret)
    return snapshot


def _number(field: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ReviewError(f"must be a number; got {value!r}", field=field) from None
    if number != number or not low <= number <= high:  # NaN fails the first test
        raise ReviewError(f"must be between {low:g} and {high:g}; got {value!r}", field=field)
    return number


def policy_validate(policy: dict[str, Any]) -> dict[str, Any]:
    """Check a whole policy and return it normalised. Raises ReviewError whose message starts
    with the field's name (``flag_threshold: ...``) so a form can put it by that field."""
    clean: dict[str, Any] = {}
    clean["flag_threshold"] = _number("flag_threshold", policy["flag_threshold"], 0, 1)
    clean["urgent_threshold"] = _number("urgent_threshold", policy["urgent_threshold"], 0, 1)
    if clean["urgent_threshold"] < clean["flag_threshold"]:
        raise ReviewError(
            "must be at least the flag threshold "
            f"({clean['flag_threshold']:g}); got {clean['urgent_threshold']:g}",
            field="urgent_threshold",
        )
    weights = policy["severity_weights"]
    if not isinstance(weights, dict):
        raise ReviewError("must map each characteristic to a number", field="severity_weights")
    unknown = sorted(set(weights) - set(characteristics.BY_KEY))
    if unknown:
        raise ReviewError(f"unknown characteristic {unknown[0]!r}", field="severity_weights")
    clean["severity_weights"] = {
        c.key: _number(
            f"severity_weights.{c.key}", weights.get(c.key, c.severity), 0, MAX_SEVERITY_WEIGHT
        )
        for c in characteristics.CHARACTERISTICS
    }
    clean["second_review_share"] = _number(
        "second_review_share", policy["second_review_share"], 0, 1
    )
    days = policy["retention_days"]
    if isinstance(days, bool) or (not isinstance(days, int) and not str(days).isdigit()):
        raise ReviewError(f"must be a whole number of days; got {days!r}", field="retention_days")
    clean["retention_days"] = int(days)
    if not 1 <= clean["retention_days"] <= MAX_RETENTION_DAYS:
        raise ReviewError(
            f"must be between 1 and {MAX_RETENTION_DAYS}; got {days!r}", field="retention_days"
        )
    target = policy.get("appeal_target_days", 7)
    if isinstance(target, bool) or (not isinstance(target, int) and not str(target).isdigit()):
        raise ReviewError(
            f"must be a whole number of days; got {target!r}", field="appeal_target_days"
        )
    clean["appeal_target_days"] = int(target)
    if not 1 <= clean["appeal_target_days"] <= MAX_APPEAL_TARGET_DAYS:
        raise ReviewError(
            f"must be between 1 and {MAX_APPEAL_TARGET_DAYS}; got {target!r}",
            field="appeal_target_days",
        )
    clean["webhook_url"] = _webhook_url_check(policy.get("webhook_url") or "")
    return clean


def _webhook_url_check(url: str) -> str:
    """The webhook URL, stripped, or ReviewError naming the rule it breaks. No DNS here: see
    ``_webhook_url_check_addresses``."""
    url = url.strip()
    if url:
        if len(url) > 200:
            raise ReviewError("must be at most 200 characters", field="webhook_url")
        try:
            outbound.url_check(url)
        except outbound.Refused as exc:
            raise ReviewError(f"{exc}; got {url!r}", field="webhook_url") from None
    return url


def webhook_url_problem(url: str, *, current: str = "") -> str | None:
    """What a save would refuse in ``url`` as the tenant's webhook, or None. The policy form
    asks before it saves, so the admin sees this with the form's other errors in one round;
    the save checks again (``_record``), since that is the check that counts."""
    try:
        url = _webhook_url_check(url)
        if url and url != current:
            _webhook_url_check_addresses(url)
    except ReviewError as exc:
        return exc.message
    return None


def _webhook_url_check_addresses(url: str) -> None:
    """Refuse a webhook URL whose host resolves to an address a tenant may not reach. Called
    before the tenant row is locked, since a DNS answer can take seconds. A name with no
    address yet is accepted: every send checks the addresses again, which is the check that
    counts (DNS can change after a save)."""
    try:
        outbound.url_vet(url)
    except outbound.Unresolved:
        pass
    except outbound.Refused as exc:
        raise ReviewError(f"{exc}; got {url!r}", field="webhook_url") from None


def _next_number(tenant: Tenant) -> int:
    current = PolicyVersion.objects.filter(tenant=tenant).aggregate(n=Max("number"))["n"]
    return (current or 0) + 1


def _record(
    *,
    tenant: Tenant,
    actor: AbstractBaseUser | None,
    reason: str,
    changes: dict[str, Any],
    secret: str | None,
    restores: PolicyVersion | None = None,
) -> PolicyVersion:
    """The one write path: lock the tenant, validate, save, version, re-evaluate, audit."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("say why the policy changes; every change needs a reason", field="reason")
    new_url = str(changes.get("webhook_url") or "").strip()
    if new_url and new_url != tenant.webhook_url:
        _webhook_url_check_addresses(new_url)
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if not PolicyVersion.objects.filter(tenant=tenant).exists():
        # The first change also records the policy it started from, so a rollback can
        # always go back to it.
        start = policy_snapshot(tenant)
        PolicyVersion.objects.create(
            tenant=tenant,
            number=1,
            created_at=timezone.now(),
            created_by=None,
            reason="Policy in force before the first recorded change",
            before=start,
            after=start,
        )
    before = policy_snapshot(tenant)
    proposed = {k: before[k] for k in POLICY_FIELDS}
    proposed.update({k: v for k, v in changes.items() if k in POLICY_FIELDS})
    clean = policy_validate(proposed)
    secret_changed = secret is not None and secret != tenant.webhook_secret
    if secret is not None and len(secret) > 200:
        raise ReviewError("must be at most 200 characters", field="webhook_secret")
    for field, value in clean.items():
        setattr(tenant, field, value)
    if secret_changed:
        tenant.webhook_secret = secret
    if tenant.webhook_url and not tenant.webhook_secret:
        # Signed with an empty key, a delivery's signature is one anyone can make: a forged
        # ban notice would pass the platform's check.
        raise ReviewError(
            "a webhook needs a secret: the platform checks every delivery's signature with it; "
            "set one, or remove the webhook URL",
            field="webhook_secret",
        )
    after = policy_snapshot(tenant)
    changed = [k for k in after if after[k] != before[k]]
    if not changed and not secret_changed:
        raise ReviewError("nothing to change: the policy is already like this")
    tenant.save(update_fields=[*POLICY_FIELDS, "webhook_secret"])
    version = PolicyVersion.objects.create(
        tenant=tenant,
        number=_next_number(tenant),
        created_at=timezone.now(),
        created_by=actor,
        reason=reason,
        before=before,
        after=after,
        secret_changed=secret_changed,
        restores=restores,
    )
    reevaluation: Reevaluation | None = None
    if QUEUE_FIELDS & set(changed):
        reevaluation = queue_reevaluate(
            tenant=tenant,
            flag_lowered=after["flag_threshold"] < before["flag_threshold"],
            policy_version=version,
        )
        version.reevaluation = reevaluation.as_dict()
        version.save(update_fields=["reevaluation"])
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.POLICY_CHANGE,
        target_type="policy_version",
        target_id=str(version.number),
        detail={
            "changed": changed + (["webhook_secret"] if secret_changed else []),
            # Numbers only: the URL is configuration, the secret never appears.
            "before": {k: before[k] for k in changed if k != "webhook_url"},
            "after": {k: after[k] for k in changed if k != "webhook_url"},
            "restores": restores.number if restores else None,
            "queue": reevaluation.as_dict() if reevaluation else None,
            "reason": reason,
        },
    )
    return version


@transaction.atomic
def policy_change(
    *,
    tenant: Tenant,
    actor: AbstractBaseUser | None,
    reason: str,
    changes: dict[str, Any],
    webhook_secret: str | None = None,
) -> PolicyVersion:
    """Change some policy fields (the rest stay), with a reason. ``webhook_secret``: None
    keeps the current one, "" clears it, anything else replaces it. Threshold and severity
    changes are applied to the queue in the same transaction."""
    return _record(
        tenant=tenant, actor=actor, reason=reason, changes=changes, secret=webhook_secret
    )


@transaction.atomic
def policy_rollback(
    *, tenant: Tenant, actor: AbstractBaseUser | None, version_number: int, reason: str
) -> PolicyVersion:
    """Restore the policy as it was after version ``version_number``, as a new version.
    The webhook secret is not part of a version and stays as it is."""
    target = PolicyVersion.objects.filter(tenant=tenant, number=version_number).first()
    if target is None:
        raise ReviewError(f"no policy version {version_number} for this tenant", field="version")
    changes = {k: target.after[k] for k in POLICY_FIELDS if k in target.after}
    return _record(
        tenant=tenant,
        actor=actor,
        reason=reason,
        changes=changes,
        secret=None,
        restores=target,
    )
