"""Reads for the admin's Sign-in page: each member's second factor, failed sign-ins and
locks, and the locked addresses the tenant's members sign in from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from review.models import AuditAction, AuditEvent, Membership, Tenant
from review.signin import lockout
from review.signin.lockout import ACCOUNT, ACCOUNT_AT_ADDRESS, Held
from review.tenancy.capabilities import member_needs_two_factor


def recent_failures(usernames: list[str]) -> dict[str, int]:
    """Failed sign-ins per username still counting towards a lockout (any tenant's: a
    username is one account)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    counts: dict[str, int] = {}
    rows = AccessAttempt.objects.filter(username__in=usernames, attempt_time__gte=since)
    for username, failures in rows.values_list("username", "failures_since_start"):
        counts[username] = counts.get(username, 0) + failures
    return counts


# A member's own sign-in events: where they sign in from (an admin's act on them is not).
SIGN_IN_ACTIONS = (
    AuditAction.LOGIN,
    AuditAction.LOGIN_FAILED,
    AuditAction.LOGIN_LOCKED,
    AuditAction.LOGOUT,
)


def signin_addresses(*, tenant: Tenant, user_id: int | None = None) -> set[str]:
    """The addresses the tenant's members (or one member) signed in, out or failed to from
    within the cool-off: where an address lock can stop them now."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    events = AuditEvent.objects.filter(
        tenant=tenant, action__in=SIGN_IN_ACTIONS, created_at__gte=since, ip__isnull=False
    )
    if user_id is not None:
        events = events.filter(target_type="user", target_id=str(user_id))
    return set(events.values_list("ip", flat=True).distinct())


def addresses_locked(*, tenant: Tenant, also: Iterable[str | None] = ()) -> list[Held]:
    """The locked addresses (as any username) the tenant's members signed in from lately,
    and ``also`` (the admin's own): they stop every member there, and clearing a member's
    failures does not lift them."""
    return lockout.addresses_locked([*signin_addresses(tenant=tenant), *also])


@dataclass(frozen=True)
class MemberSignin:
    membership: Membership
    two_factor: bool  # has a confirmed authenticator
    two_factor_required: bool
    failures: int  # failed sign-ins still counting towards a lockout
    locked_everywhere: bool  # the username's own lock, from every address
    locked_from: list[str]  # addresses this username is locked from (its own failures there)

    @property
    def locked(self) -> bool:
        return self.locked_everywhere or bool(self.locked_from)


def _locked_from(usernames: list[str]) -> dict[str, list[str]]:
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = AccessAttempt.objects.filter(username__in=usernames, attempt_time__gte=since)
    per_address: dict[tuple[str, str], int] = {}
    for username, ip, failures in rows.values_list(
        "username", "ip_address", "failures_since_start"
    ):
        per_address[(username, ip)] = per_address.get((username, ip), 0) + failures
    locked: dict[str, list[str]] = {}
    for (username, ip), failures in sorted(per_address.items()):
        if ip and failures >= lockout.limit(ACCOUNT_AT_ADDRESS):
            locked.setdefault(username, []).append(ip)
    return locked


def member_signin_list(*, tenant: Tenant) -> list[MemberSignin]:
    members = list(
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    )
    user_ids = [m.user_id for m in members]
    enrolled = set(
        TOTPDevice.objects.filter(user_id__in=user_ids, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    usernames = [m.user.get_username() for m in members]
    failures = recent_failures(usernames)
    locked_from = _locked_from(usernames)
    rows = []
    for m in members:
        count = failures.get(m.user.get_username(), 0)
        rows.append(
            MemberSignin(
                membership=m,
                two_factor=m.user_id in enrolled,
                two_factor_required=tenant.require_two_factor or member_needs_two_factor(m),
                failures=count,
                locked_everywhere=count >= lockout.limit(ACCOUNT),
                locked_from=locked_from.get(m.user.get_username(), []),
            )
        )
    return rows
