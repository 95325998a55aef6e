"""What an admin does to a tenant's people and keys: add, re-role and remove members; create
and revoke API keys. Every change is audited; secrets (a new user's one-time password, an
API key) are returned once and never stored in clear."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from review.models import ApiKey, AuditAction, Membership, ReviewError, Role, Tenant
from review.services.audit import audit_record
from review.services.tenants import api_key_create


def _role(role: str) -> Role:
    if role not in Role.values:
        raise ReviewError(f"role: unknown role {role!r}; one of {', '.join(Role.values)}")
    return Role(role)


def _admins_left(tenant: Tenant, *, without: Membership) -> int:
    return (
        Membership.objects.select_for_update()
        .filter(tenant=tenant, role=Role.ADMIN)
        .exclude(pk=without.pk)
        .count()
    )


@transaction.atomic
def member_add(
    *, tenant: Tenant, actor: AbstractBaseUser, username: str, role: str, create: bool
) -> tuple[Membership, str | None]:
    """Add an existing user, or create one, with ``role``. A created user gets a one-time
    password, returned here and shown once; it is stored only as Django's hash."""
    role_value = _role(role)
    username = (username or "").strip()
    if not username:
        raise ReviewError("username: enter a username")
    users = get_user_model().objects
    user = users.filter(username=username).first()
    password: str | None = None
    if create:
        if user is not None:
            raise ReviewError(
                f"username: {username!r} already exists; add the existing user instead"
            )
        if len(username) > 150:
            raise ReviewError("username: at most 150 characters")
        password = secrets.token_urlsafe(12)
        user = users.create_user(username=username, password=password)
    elif user is None:
        raise ReviewError(f"username: no user {username!r}; tick “create” to make one")
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ReviewError(f"username: {username!r} is already a member of this tenant")
    membership = Membership.objects.create(tenant=tenant, user=user, role=role_value)
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.MEMBER_ADD,
        target_type="user",
        target_id=str(user.pk),
        detail={"username": username, "role": role_value.value, "created": create},
    )
    return membership, password


def _locked_membership(tenant: Tenant, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(tenant=tenant, pk=membership_id)
        .first()
    )
    if membership is None:
        raise ReviewError("member: no such member of this tenant")
    return membership


@transaction.atomic
def member_set_role(
    *, tenant: Tenant, actor: AbstractBaseUser, membership_id: int, role: str
) -> Membership:
    """Change a member's role. Never the last admin, and an admin cannot demote themself
    (another admin must), so nobody locks the tenant out of its own settings by accident."""
    role_value = _role(role)
    membership = _locked_membership(tenant, membership_id)
    previous = membership.role
    if previous == role_value:
        return membership
    if previous == Role.ADMIN:
        if membership.user_id == actor.pk:
            raise ReviewError("role: you cannot take away your own admin role; ask another admin")
        if _admins_left(tenant, without=membership) == 0:
            raise ReviewError(
                "role: this is the tenant's last admin; make someone else admin first"
            )
    membership.role = role_value
    membership.save(update_fields=["role"])
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.MEMBER_ROLE,
        target_type="user",
        target_id=str(membership.user_id),
        detail={"from": previous, "to": role_value.value},
    )
    return membership


@transaction.atomic
def member_remove(*, tenant: Tenant, actor: AbstractBaseUser, membership_id: int) -> None:
    """Remove a member from the tenant (the user account stays: the audit trail names it)."""
    membership = _locked_membership(tenant, membership_id)
    if membership.user_id == actor.pk:
        raise ReviewError("member: you cannot remove yourself; ask another admin")
    if membership.role == Role.ADMIN and _admins_left(tenant, without=membership) == 0:
        raise ReviewError("member: this is the tenant's last admin; make someone else admin first")
    user_id, role = membership.user_id, membership.role
    membership.delete()
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.MEMBER_REMOVE,
        target_type="user",
        target_id=str(user_id),
        detail={"role": role},
    )


@transaction.atomic
def api_key_issue(*, tenant: Tenant, actor: AbstractBaseUser, name: str) -> tuple[ApiKey, str]:
    """Create an API key for the platform; the secret is returned once, only its hash kept."""
    name = (name or "").strip()
    if not name:
        raise ReviewError("name: say what the key is for, e.g. 'chat-prod'")
    if len(name) > 100:
        raise ReviewError("name: at most 100 characters")
    api_key, raw = api_key_create(tenant=tenant, name=name, created_by=actor)
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.API_KEY_CREATE,
        target_type="api_key",
        target_id=str(api_key.pk),
        detail={"name": name, "prefix": api_key.prefix},
    )
    return api_key, raw


@transaction.atomic
def api_key_withdraw(*, tenant: Tenant, actor: AbstractBaseUser, api_key_id: int) -> ApiKey:
    """Revoke a key: the platform's requests with it fail from now on."""
    api_key = ApiKey.objects.select_for_update().filter(tenant=tenant, pk=api_key_id).first()
    if api_key is None:
        raise ReviewError("api_key: no such key for this tenant")
    if api_key.revoked_at is not None:
        raise ReviewError(f"api_key: {api_key.prefix}… is already revoked")
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.API_KEY_REVOKE,
        target_type="api_key",
        target_id=str(api_key.pk),
        detail={"name": api_key.name, "prefix": api_key.prefix},
    )
    return api_key
