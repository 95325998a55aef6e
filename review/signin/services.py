"""Sign-in security: lockouts (recorded, and lifted by a tenant admin), the tenant's
two-factor requirement, and a member's second factor: enrolment with recovery codes, and
checking a code.

The audit trail says what happened, never a password, a secret key or a code. Events about
one person go to every tenant they belong to, as sign-ins do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from review.audit.services import audit_record
from review.models import AuditAction, Membership, ReviewError, Tenant
from review.signin.lockout import Held, addresses_locked
from review.signin.selectors import recent_failures, signin_addresses

log = logging.getLogger("artemis.signin")

RECOVERY_CODES = 10
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"


def _audit_person(
    user: Any,
    action: str,
    *,
    ip: str | None,
    detail: dict[str, Any] | None = None,
    by_system: bool = False,
) -> None:
    """One event in each tenant ``user`` belongs to, by them (or by the system: a lockout is
    no one's act in particular)."""
    for membership in Membership.objects.filter(user=user).select_related("tenant"):
        audit_record(
            tenant=membership.tenant,
            actor=None if by_system else user,
            action=action,
            target_type="user",
            target_id=str(user.pk),
            detail=detail,
            ip=ip,
        )


# --- Lockouts --------------------------------------------------------------------------------


@transaction.atomic
def signin_lockout_record(*, username: str, ip: str | None, failures: int) -> None:
    """Record that a sign-in as ``username`` reached the failure limit (by that username, or
    from that address), in the tenants of that account if it exists. The password tried is
    never known here."""
    user = get_user_model().objects.filter(username=username).first()
    log.warning("sign-in locked: user_id=%s failures=%s", user.pk if user else None, failures)
    if user is None:
        return
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    _audit_person(
        user,
        AuditAction.LOGIN_LOCKED,
        ip=ip,
        by_system=True,
        detail={
            "username_failures": recent_failures([username]).get(username, 0),
            "address_failures": _sum(recent.filter(ip_address=ip)) if ip else 0,
            "limit": settings.AXES_FAILURE_LIMIT,
            "locked_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
    )


def _sum(attempts: Any) -> int:
    return sum(attempts.values_list("failures_since_start", flat=True))


def _member_of_this_tenant_only(tenant: Tenant, membership_id: int, what: str) -> Membership:
    """The member an admin acts on, refused when the account belongs to another tenant too.

    One account signs in to every tenant it belongs to, so its lockout and its second factor
    guard those tenants as well: an admin of this one lifting either would weaken another
    tenant's sign-in behind its back (its admin may hold that account). That is left to the
    operator (Django admin: the account's access attempts and OTP devices)."""
    membership = (
        Membership.objects.select_related("user").filter(tenant=tenant, pk=membership_id).first()
    )
    if membership is None:
        raise ReviewError("no such member of this tenant", field="member", code="not_found")
    if Membership.objects.filter(user_id=membership.user_id).exclude(tenant=tenant).exists():
        raise ReviewError(
            f"{membership.user.get_username()} also belongs to another tenant, whose sign-in "
            f"this guards too; ask the operator to {what}",
            field="member",
            code="forbidden",
        )
    return membership


@dataclass(frozen=True)
class Unlocked:
    membership: Membership
    # Locks on addresses the member signs in from, as any username: clearing the member's
    # failures does not lift them (only the operator does, or the cool-off).
    addresses_locked: list[Held]


def address_locks_text(held: list[Held]) -> str:
    """Names each address lock and when it lifts, for a message to an admin."""
    return "; ".join(
        f"sign-in from {h.ip} stays locked for {h.minutes_left} more minute"
        f"{'' if h.minutes_left == 1 else 's'} (too many failed sign-ins from that address, as "
        "any username: only the operator can lift that sooner)"
        for h in held
    )


@transaction.atomic
def member_signin_unlock(
    *, tenant: Tenant, actor: Any, membership_id: int, ip: str | None = None
) -> Unlocked:
    """Lift a member's lockout now: their failed sign-ins (from any address) are forgotten.
    A lock on an address they sign in from (too many failures there, as any username) is
    not theirs and stays: it is returned, so the admin is told rather than misled."""
    membership = _member_of_this_tenant_only(tenant, membership_id, "lift the lockout")
    username = membership.user.get_username()
    theirs = AccessAttempt.objects.filter(username=username)
    tried_from = {*theirs.values_list("ip_address", flat=True)}
    tried_from |= signin_addresses(tenant=tenant, user_id=membership.user_id)
    deleted, _ = theirs.delete()
    still = addresses_locked(tried_from)
    if not deleted:
        raise ReviewError(
            f"{username} has no failed sign-ins to clear"
            + (f"; {address_locks_text(still)}" if still else ""),
            field="member",
            code="conflict",
        )
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.LOGIN_UNLOCK,
        target_type="user",
        target_id=str(membership.user_id),
        detail={"username": username},
        ip=ip,
    )
    return Unlocked(membership, still)


@transaction.atomic
def member_two_factor_reset(
    *, tenant: Tenant, actor: Any, membership_id: int, ip: str | None = None
) -> Membership:
    """Forget a member's authenticator and recovery codes (a lost phone): they set up a new
    one at their next sign-in. Not one's own: that is what recovery codes are for."""
    membership = _member_of_this_tenant_only(tenant, membership_id, "reset the second factor")
    if membership.user_id == actor.pk:
        raise ReviewError(
            "you cannot reset your own second factor; ask another admin",
            field="member",
            code="forbidden",
        )
    deleted = TOTPDevice.objects.filter(user_id=membership.user_id).delete()[0]
    deleted += StaticDevice.objects.filter(user_id=membership.user_id).delete()[0]
    if not deleted:
        raise ReviewError(
            f"{membership.user.get_username()} has no second factor set up",
            field="member",
            code="conflict",
        )
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.TWO_FACTOR_RESET,
        target_type="user",
        target_id=str(membership.user_id),
        detail={"username": membership.user.get_username()},
        ip=ip,
    )
    return membership


@transaction.atomic
def tenant_two_factor_set(
    *, tenant: Tenant, actor: Any, required: bool, ip: str | None = None
) -> Tenant:
    """Require a second factor of every member (supervisors and admins always need one)."""
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if locked.require_two_factor == required:
        return locked
    previous = locked.require_two_factor
    locked.require_two_factor = required
    locked.save(update_fields=["require_two_factor"])
    audit_record(
        tenant=locked,
        actor=actor,
        action=AuditAction.TWO_FACTOR_POLICY,
        target_type="tenant",
        target_id=str(locked.pk),
        detail={
            "from": "everyone" if previous else "supervisors and admins",
            "to": "everyone" if required else "supervisors and admins",
        },
        ip=ip,
    )
    return locked


# --- A member's second factor ----------------------------------------------------------------


@transaction.atomic
def two_factor_enrol_begin(*, user: Any) -> TOTPDevice:
    """The authenticator being set up: a new secret, kept until it is confirmed (reloading
    the page shows the same one)."""
    # The user's row lock: two tabs opening the page at once still get one secret.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=AUTHENTICATOR).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def _wait_message(devices: list[Device]) -> str | None:
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            seconds = max(1, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)
            return f"too many wrong codes; wait {seconds} seconds before the next try"
    return None


def two_factor_enrol_finish(
    *, user: Any, token: str, ip: str | None
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with a code from it; create fresh recovery codes, returned
    once (they are shown once, then only checked)."""
    token = _normalise(token)
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=AUTHENTICATOR).first()
    if device is None:
        raise ReviewError("start again: no authenticator is being set up", field="code")
    wait = _wait_message([device])
    if wait:
        raise ReviewError(wait, field="code", code="conflict")
    with transaction.atomic():
        verified = verify_token(user, device.persistent_id, token)
        if verified is None:
            _audit_person(
                user, AuditAction.TWO_FACTOR_FAILED, ip=ip,
                detail={"stage": "enrol", "method": AUTHENTICATOR},
            )  # fmt: skip
    if verified is None:
        raise ReviewError(
            "that code is not right; enter the 6 digits your app shows now", field="code"
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=verified.pk).delete()
        StaticDevice.objects.filter(user=user).delete()
        verified.confirmed = True
        verified.save(update_fields=["confirmed"])
        recovery = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
        _audit_person(
            user, AuditAction.TWO_FACTOR_ENROL, ip=ip, detail={"recovery_codes": len(codes)}
        )
    return verified, codes


@dataclass(frozen=True)
class Verified:
    device: Device
    recovery_codes_left: int | None  # None: an authenticator code was used


def _normalise(token: str) -> str:
    return "".join((token or "").split()).replace("-", "").lower()


def two_factor_check(*, user: Any, token: str, ip: str | None) -> Verified:
    """Check a code from the member's authenticator, or one of their recovery codes (used
    up by this). Wrong codes slow the next try down exponentially."""
    token = _normalise(token)
    if not token:
        raise ReviewError(
            "enter the code from your authenticator app, or a recovery code", field="code"
        )
    totp = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    static = list(StaticDevice.objects.filter(user=user, confirmed=True))
    wait = _wait_message([*totp, *static])
    if wait:
        raise ReviewError(wait, field="code", code="conflict")
    is_totp = token.isdigit() and len(token) in (6, 8)
    method = AUTHENTICATOR if is_totp else "recovery_code"
    verified: Device | None = None
    with transaction.atomic():
        for device in totp if is_totp else static:
            verified = verify_token(user, device.persistent_id, token)
            if verified is not None:
                break
        if verified is None:
            _audit_person(
                user, AuditAction.TWO_FACTOR_FAILED, ip=ip,
                detail={"stage": "sign_in", "method": method},
            )  # fmt: skip
        elif is_totp:
            _audit_person(user, AuditAction.TWO_FACTOR_VERIFY, ip=ip, detail={"method": method})
        else:
            left = StaticToken.objects.filter(device__user=user).count()
            _audit_person(user, AuditAction.TWO_FACTOR_RECOVERY, ip=ip, detail={"codes_left": left})
    if verified is None:
        raise ReviewError("that code is not right (or that recovery code was used)", field="code")
    return Verified(verified, None if is_totp else left)
