"""Tenancy writes: tenants, API keys, members, roles and invitations (each one audited)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from review.audit.services import audit_record
from review.models import (
    ApiKey,
    AuditAction,
    Invitation,
    InvitationStatus,
    Membership,
    ReviewError,
    Role,
    Tenant,
)
from review.tenancy.capabilities import Capability, member_can, role_can, roles_with
from review.tenancy.selectors import addressed_to, api_key_hash
from review.tenancy.validators import USERNAME_MAX, validate_invitee, validate_username

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
    tenant = tenants_lock_policy(tenant_ids=[tenant_id]).get(tenant_id)
    if tenant is None:
        raise Tenant.DoesNotExist(f"no tenant with id {tenant_id}")
    return tenant


def tenants_lock_policy(*, tenant_ids: Iterable[int]) -> dict[int, Tenant]:
    """``tenant_lock_policy`` for several tenants in one statement, locked in id order (as
    every holder of more than one takes them, so two never wait on each other in a cycle).
    Returns them by id."""
    ids = sorted(set(tenant_ids))
    if not ids:
        return {}
    if connection.vendor == "postgresql":
        locked = Tenant.objects.raw(
            "SELECT * FROM review_tenant WHERE id = ANY(%s) ORDER BY id FOR SHARE", [ids]
        )
        return {tenant.pk: tenant for tenant in locked}
    return {tenant.pk: tenant for tenant in Tenant.objects.filter(pk__in=ids)}


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


def _role(role: str) -> Role:
    if role not in Role.values:
        raise ReviewError(f"unknown role {role!r}; one of {', '.join(Role.values)}", field="role")
    return Role(role)


def _admins_left(tenant: Tenant, *, without: Membership) -> int:
    """Members besides ``without`` who may administer the tenant."""
    return (
        Membership.objects.select_for_update()
        .filter(tenant=tenant, role__in=roles_with(Capability.ADMINISTER))
        .exclude(pk=without.pk)
        .count()
    )


def tenant_username(tenant: Tenant, name: str) -> str:
    """The username of an account ``tenant`` creates: ``name@slug``."""
    return f"{name}@{tenant.slug}"


@transaction.atomic
def member_create(
    *, tenant: Tenant, actor: AbstractBaseUser, name: str, role: str
) -> tuple[Membership, str]:
    """Create a new account ``name@<tenant slug>`` as a member with ``role``. It gets a
    one-time password, returned here and shown once; it is stored only as Django's hash."""
    role_value = _role(role)
    name = (name or "").strip()
    if not name:
        raise ReviewError("enter a name for the new account, e.g. jo.smith", field="name")
    if "@" in name:
        raise ReviewError(
            f"leave out the '@'; the account is named name@{tenant.slug}. To add "
            "someone who already has an account, invite them.",
            field="name",
        )
    username = tenant_username(tenant, name)
    room = USERNAME_MAX - len(tenant.slug) - 1
    if len(name) > room:
        # Said first: a long name of plain letters is refused for its length alone.
        raise ReviewError(
            f"at most {room} characters (this one has {len(name)}): the account is named "
            f"name@{tenant.slug}, and a username holds {USERNAME_MAX}.",
            field="name",
        )
    try:
        validate_username(username)
    except ValidationError:
        raise ReviewError(
            "use only letters, digits and the characters . + - _ (no spaces), at most "
            f"{room} characters.",
            field="name",
        ) from None
    users = get_user_model().objects
    # Only an account this tenant created can be named name@<its slug>.
    if users.filter(username=username).exists():
        raise ReviewError(f"{username!r} already exists; choose another name", field="name")
    password = secrets.token_urlsafe(12)
    user = users.create_user(username=username, password=password)
    membership = Membership.objects.create(tenant=tenant, user=user, role=role_value)
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.MEMBER_ADD,
        target_type="user",
        target_id=str(user.pk),
        detail={"username": username, "role": role_value.value, "created": True},
    )
    return membership, password


def _expire_invitations(**filters: object) -> None:
    Invitation.objects.filter(
        status=InvitationStatus.PENDING, expires_at__lte=timezone.now(), **filters
    ).update(status=InvitationStatus.EXPIRED)


@transaction.atomic
def invitation_send(
    *, tenant: Tenant, actor: AbstractBaseUser, invitee: str, role: str
) -> Invitation:
    """Invite a username or an e-mail address to join with ``role``. The invitee's account is
    not looked up: whether it exists, here or in another tenant, changes nothing in the
    answer, and the invitation waits for whoever signs in under that name or address."""
    role_value = _role(role)
    invitee = (invitee or "").strip()
    if not invitee:
        raise ReviewError("enter a username or an e-mail address", field="invitee")
    try:
        validate_invitee(invitee)
    except ValidationError as exc:
        raise ReviewError(f"{exc.messages[0]}", field="invitee") from None
    # The member list shows usernames, so this tells the admin nothing new.
    if Membership.objects.filter(tenant=tenant, user__username=invitee).exists():
        raise ReviewError(f"{invitee!r} is already a member of this tenant", field="invitee")
    _expire_invitations(tenant=tenant, invitee=invitee)
    if Invitation.objects.filter(
        tenant=tenant, invitee=invitee, status=InvitationStatus.PENDING
    ).exists():
        raise ReviewError(f"{invitee!r} already has a pending invitation", field="invitee")
    now = timezone.now()
    invitation = Invitation.objects.create(
        tenant=tenant,
        invitee=invitee,
        role=role_value,
        invited_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=settings.ARTEMIS_INVITATION_DAYS),
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        action=AuditAction.INVITATION_SEND,
        target_type="invitation",
        target_id=str(invitation.pk),
        detail={"invitee": invitee, "role": role_value.value},
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, tenant: Tenant, actor: AbstractBaseUser, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation before it is answered."""
    invitation = (
        Invitation.objects.select_for_update().filter(tenant=tenant, pk=invitation_id).first()
    )
    if invitation is None:
        raise ReviewError(
            "no such invitation for this tenant", field="invitation", code="not_found"
        )
    if not invitation.is_open:
        raise ReviewError(
            f"the invitation of {invitation.invitee!r} is no longer pending",
            field="invitation",
            code="conflict",
        )
    _close_invitation(
        invitation, status=InvitationStatus.REVOKED, actor=actor,
        action=AuditAction.INVITATION_REVOKE,
        detail={"invitee": invitation.invitee, "role": invitation.role},
    )  # fmt: skip
    return invitation


def _close_invitation(
    invitation: Invitation,
    *,
    status: InvitationStatus,
    actor: AbstractBaseUser,
    action: AuditAction,
    detail: dict[str, object],
    user: AbstractBaseUser | None = None,
) -> None:
    """Record an invitation's answer (accepted, declined, revoked) and audit it."""
    invitation.status = status
    invitation.responded_at = timezone.now()
    fields = ["status", "responded_at"]
    if user is not None:
        invitation.user = user
        fields.append("user")
    invitation.save(update_fields=fields)
    audit_record(
        tenant=invitation.tenant,
        actor=actor,
        action=action,
        target_type="invitation",
        target_id=str(invitation.pk),
        detail=detail,
    )


def _open_invitation_for(user: AbstractBaseUser, invitation_id: int) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("tenant")
        .filter(addressed_to(user), pk=invitation_id)
        .first()
    )
    # Someone else's invitation, or an answered one, is "no such invitation" (a 404).
    if invitation is None or not invitation.is_open:
        raise Invitation.DoesNotExist("no such pending invitation for you")
    return invitation


@transaction.atomic
def invitation_accept(*, user: AbstractBaseUser, invitation_id: int) -> Membership:
    """The invitee, signed in, joins the tenant with the invitation's role. Raises
    ``Invitation.DoesNotExist`` unless the invitation is pending and addressed to ``user``."""
    invitation = _open_invitation_for(user, invitation_id)
    tenant = invitation.tenant
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ReviewError(
            f"you are already a member of {tenant.name}; decline this invitation",
            field="invitation",
            code="conflict",
        )
    membership = Membership.objects.create(tenant=tenant, user=user, role=invitation.role)
    _close_invitation(
        invitation, status=InvitationStatus.ACCEPTED, actor=user, user=user,
        action=AuditAction.INVITATION_ACCEPT, detail={"user": user.pk, "role": invitation.role},
    )  # fmt: skip
    return membership


@transaction.atomic
def invitation_decline(*, user: AbstractBaseUser, invitation_id: int) -> Invitation:
    invitation = _open_invitation_for(user, invitation_id)
    _close_invitation(
        invitation, status=InvitationStatus.DECLINED, actor=user, user=user,
        action=AuditAction.INVITATION_DECLINE, detail={"user": user.pk, "role": invitation.role},
    )  # fmt: skip
    return invitation


def _locked_membership(tenant: Tenant, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(tenant=tenant, pk=membership_id)
        .first()
    )
    if membership is None:
        raise ReviewError("no such member of this tenant", field="member", code="not_found")
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
    if role_can(previous, Capability.ADMINISTER) and not role_can(
        role_value, Capability.ADMINISTER
    ):
        if membership.user_id == actor.pk:
            raise ReviewError(
                "you cannot take away your own admin role; ask another admin",
                field="role",
                code="forbidden",
            )
        if _admins_left(tenant, without=membership) == 0:
            raise ReviewError(
                "this is the tenant's last admin; make someone else admin first",
                field="role",
                code="conflict",
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
        raise ReviewError(
            "you cannot remove yourself; ask another admin", field="member", code="forbidden"
        )
    if (
        member_can(membership, Capability.ADMINISTER)
        and _admins_left(tenant, without=membership) == 0
    ):
        raise ReviewError(
            "this is the tenant's last admin; make someone else admin first",
            field="member",
            code="conflict",
        )
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
        raise ReviewError("say what the key is for, e.g. 'chat-prod'", field="name")
    if len(name) > 100:
        raise ReviewError("at most 100 characters", field="name")
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
        raise ReviewError("no such key for this tenant", field="api_key", code="not_found")
    if api_key.revoked_at is not None:
        raise ReviewError(f"{api_key.prefix}… is already revoked", field="api_key", code="conflict")
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
