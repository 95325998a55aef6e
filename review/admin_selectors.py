"""Reads for the admin pages; each takes the tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from review.models import (
    ApiKey,
    Invitation,
    InvitationStatus,
    Membership,
    PolicyVersion,
    RetentionRun,
    Tenant,
)


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    )


def invitation_list(*, tenant: Tenant) -> list[Invitation]:
    """Pending invitations first (the admin may revoke them), then the 20 latest answered."""
    pending = list(
        Invitation.objects.filter(tenant=tenant, status=InvitationStatus.PENDING)
        .select_related("invited_by")
        .order_by("-created_at")
    )
    answered = list(
        Invitation.objects.filter(tenant=tenant)
        .exclude(status=InvitationStatus.PENDING)
        .select_related("invited_by")
        .order_by("-created_at")[:20]
    )
    return pending + answered


def api_key_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(tenant=tenant)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at")
    )


def policy_version_list(*, tenant: Tenant) -> QuerySet[PolicyVersion]:
    return (
        PolicyVersion.objects.filter(tenant=tenant)
        .select_related("created_by", "restores")
        .order_by("-number")
    )


def retention_run_list(*, tenant: Tenant) -> QuerySet[RetentionRun]:
    return RetentionRun.objects.filter(tenant=tenant).order_by("-ran_at")
