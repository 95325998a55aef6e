"""Tenancy: tenants, their members and roles, API keys and invitations to join."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from scoring import characteristics


def default_severity_weights() -> dict[str, int]:
    return {c.key: c.severity for c in characteristics.CHARACTERISTICS}


class Tenant(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    # A conversation whose probability reaches this enters the moderation queue.
    flag_threshold = models.FloatField(default=0.5)
    # ... and from this one, it is marked urgent and jumps the line.
    urgent_threshold = models.FloatField(default=0.9)
    severity_weights = models.JSONField(default=default_severity_weights)
    second_review_share = models.FloatField(default=0.1)
    retention_days = models.PositiveIntegerField(default=90)
    # An appeal older than this is overdue: the supervisors' inbox lists it.
    appeal_target_days = models.PositiveSmallIntegerField(default=7)
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=200, blank=True)
    # Supervisors and admins always sign in with a second factor; this asks it of everyone.
    require_two_factor = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(flag_threshold__gte=0) & Q(flag_threshold__lte=1),
                name="tenant_flag_threshold_0_1",
            ),
            models.CheckConstraint(
                condition=Q(urgent_threshold__gte=0) & Q(urgent_threshold__lte=1),
                name="tenant_urgent_threshold_0_1",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    MODERATOR = "moderator", "Moderator"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"
    # Reads decisions, cases and the audit trail; changes nothing (review/tenancy/capabilities.py).
    AUDITOR = "auditor", "Auditor"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_user_tenant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"


class ApiKey(models.Model):
    """A platform's credential. Only the SHA-256 of the secret is stored (the key is 256 random
    bits, so a fast hash is enough); the prefix stays visible so admins can tell keys apart."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class Invitation(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    # A username (matched exactly) or an e-mail address (matched ignoring case), as typed.
    invitee = models.CharField(max_length=254)
    role = models.CharField(max_length=20, choices=Role.choices)
    status = models.CharField(
        max_length=20, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    # Who accepted or declined it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "invitee"],
                condition=Q(status="pending"),
                name="invitation_one_pending",
            )
        ]
        indexes = [models.Index(fields=["invitee", "status"], name="invitation_for")]

    def __str__(self) -> str:
        return f"invitation of {self.invitee} to {self.tenant} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == InvitationStatus.PENDING and self.expires_at > timezone.now()
