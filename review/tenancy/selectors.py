"""Tenancy reads: memberships, invitations and API keys. Every selector that returns tenant
data takes the tenant.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from review.models import (
    ApiKey,
    Invitation,
    InvitationStatus,
    Membership,
    Tenant,
)

# last_used_at is for humans ("is this key still in use?"); writing it on every request
# would put a row update on the ingest hot path.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    api_key = (
        ApiKey.objects.select_related("tenant")
        .filter(key_hash=api_key_hash(raw_key), revoked_at__isnull=True)
        .first()
    )
    if api_key is not None:
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


def membership_list(*, user: object) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")
    )


def addressed_to(user: AbstractBaseUser) -> Q:
    """Invitations for ``user``: to their username exactly, or to their e-mail address."""
    match = Q(invitee=user.get_username())
    email = (getattr(user, "email", "") or "").strip()
    if email:
        match |= Q(invitee__iexact=email)
    return match


def invitation_open_list(*, user: AbstractBaseUser) -> list[Invitation]:
    """The invitations waiting for ``user`` to accept or decline (not yet expired)."""
    return list(
        Invitation.objects.filter(
            addressed_to(user), status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("tenant", "invited_by")
        .order_by("-created_at")
    )


def membership_get(*, user: object, tenant_slug: str) -> Membership | None:
    return (
        Membership.objects.filter(user=user, tenant__slug=tenant_slug)
        .select_related("tenant")
        .first()
    )


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    )


def invitation_rows(*, tenant: Tenant) -> QuerySet[Invitation]:
    """Every invitation the tenant sent, whatever its status."""
    return Invitation.objects.filter(tenant=tenant)


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
