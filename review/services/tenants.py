"""Tenants, members and API keys."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from review.models import ApiKey, Membership, ReviewError, Role, Tenant
from review.selectors import api_key_hash
from review.validators import validate_username

KEY_PREFIX = "art_"


@transaction.atomic
def tenant_create(*, name: str, slug: str, flag_threshold: float = 0.5) -> Tenant:
    if Tenant.objects.filter(slug=slug).exists():
        raise ReviewError(f"a tenant with slug {slug!r} already exists")
    return Tenant.objects.create(name=name, slug=slug, flag_threshold=flag_threshold)


def tenant_lock_policy(*, tenant_id: int) -> Tenant:
    """Read the tenant's policy and hold it for the rest of the transaction: FOR SHARE on
    PostgreSQL, so holders never wait on one another, but a policy change (which takes the
    row FOR UPDATE) waits for them and they for it. SQLite has one writer at a time."""
    if connection.vendor == "postgresql":
        locked = Tenant.objects.raw(
            "SELECT * FROM review_tenant WHERE id = %s FOR SHARE", [tenant_id]
        )
        return locked[0]
    return Tenant.objects.get(pk=tenant_id)


@transaction.atomic
def membership_set(*, tenant: Tenant, user: AbstractBaseUser, role: str) -> Membership:
    if role not in Role.values:
        raise ReviewError(f"unknown role {role!r}; one of {', '.join(Role.values)}", code="invalid")
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    return membership


def user_create(*, username: str, password: str) -> AbstractBaseUser:
    validate_username(username)
    return get_user_model().objects.create_user(username=username, password=password)


@transaction.atomic
def api_key_create(
    *, tenant: Tenant, name: str, created_by: AbstractBaseUser | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is shown once and never stored."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        prefix=raw[:12],
        key_hash=api_key_hash(raw),
        created_by=created_by,
    )
    return api_key, raw


@transaction.atomic
def api_key_revoke(*, tenant: Tenant, api_key_id: int) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().get(tenant=tenant, pk=api_key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
