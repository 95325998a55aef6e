"""Reads for the admin's Sign-in page: each member's second factor and failed sign-ins."""

from __future__ import annotations

from dataclasses import dataclass

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from review.models import Membership, Tenant
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


@dataclass(frozen=True)
class MemberSignin:
    membership: Membership
    two_factor: bool  # has a confirmed authenticator
    two_factor_required: bool
    failures: int  # failed sign-ins still counting towards a lockout
    locked: bool


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
    failures = recent_failures([m.user.get_username() for m in members])
    rows = []
    for m in members:
        count = failures.get(m.user.get_username(), 0)
        rows.append(
            MemberSignin(
                membership=m,
                two_factor=m.user_id in enrolled,
                two_factor_required=tenant.require_two_factor or member_needs_two_factor(m),
                failures=count,
                locked=count >= settings.AXES_FAILURE_LIMIT,
            )
        )
    return rows
