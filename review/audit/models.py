"""The audit trail: who saw and did what, append-only and hash-chained per tenant.

Each event stores the hash of the one before it in the same tenant's chain, so an edited,
removed or inserted row breaks the chain at that point (`manage.py verify_audit` names it).
On PostgreSQL a trigger refuses UPDATE and DELETE on the table outright (migration 0002).
Details hold ids, counts and codes: never message text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed a conversation"
    CLAIM = "claim", "Claimed a queue item"
    RELEASE = "release", "Released a queue item"
    LEASE_EXPIRED = "lease_expired", "Lease expired"
    DECISION = "decision", "Decided"
    REVEAL = "reveal", "Revealed a hidden message"
    EXPORT = "export", "Exported data"
    LOGIN = "login", "Signed in"
    LOGOUT = "logout", "Signed out"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOGIN_LOCKED = "login_locked", "Sign-in locked after repeated failures"
    LOGIN_UNLOCK = "login_unlock", "Unlocked a member's sign-in"
    TWO_FACTOR_ENROL = "two_factor_enrol", "Set up two-factor sign-in"
    TWO_FACTOR_VERIFY = "two_factor_verify", "Passed two-factor sign-in"
    TWO_FACTOR_FAILED = "two_factor_failed", "Entered a wrong two-factor code"
    TWO_FACTOR_RECOVERY = "two_factor_recovery", "Signed in with a recovery code"
    TWO_FACTOR_RESET = "two_factor_reset", "Reset a member's two-factor sign-in"
    TWO_FACTOR_POLICY = "two_factor_policy", "Changed who must use two-factor sign-in"
    API_READ = "api_read", "Platform read a conversation"
    CASE_OPEN = "case_open", "Opened an escalation case"
    CASE_EDIT = "case_edit", "Edited an escalation case"
    CASE_TRANSITION = "case_transition", "Moved an escalation case"
    CASE_VIEW = "case_view", "Viewed an escalation case"
    NCMEC = "ncmec", "Exchanged with the CyberTipline"
    PACKAGE_DOWNLOAD = "package_download", "Downloaded a referral package"
    MODEL_TRAIN = "model_train", "Trained a challenger model"
    MODEL_ACTIVATE = "model_activate", "Changed the model in use"
    MODEL_TRAIN_REQUEST = "model_train_request", "Asked to train a challenger model"
    MODEL_TRAIN_FAILED = "model_train_failed", "Training a challenger model failed"
    SECOND_REVIEW = "second_review", "Recorded a blind second review"
    RESOLVE = "resolve", "Resolved a second-review disagreement"
    REPORT_VIEW = "report_view", "Viewed a supervision or admin page"
    MEMBER_ADD = "member_add", "Added a member"
    MEMBER_ROLE = "member_role", "Changed a member's role"
    MEMBER_REMOVE = "member_remove", "Removed a member"
    INVITATION_SEND = "invitation_send", "Invited someone to the tenant"
    INVITATION_ACCEPT = "invitation_accept", "Accepted an invitation"
    INVITATION_DECLINE = "invitation_decline", "Declined an invitation"
    INVITATION_REVOKE = "invitation_revoke", "Revoked an invitation"
    API_KEY_CREATE = "api_key_create", "Created an API key"
    API_KEY_REVOKE = "api_key_revoke", "Revoked an API key"
    POLICY_CHANGE = "policy_change", "Changed the tenant policy"
    RETENTION_PURGE = "retention_purge", "Purged expired conversations"
    # Detail holds the kind of search and the query's SHA-256, never its text.
    SEARCH = "search", "Searched"
    PARTICIPANT_VIEW = "participant_view", "Viewed a participant's page"
    APPEAL_RECEIVE = "appeal_receive", "Platform sent a user's appeal"
    APPEAL_REFER = "appeal_refer", "Referred an appeal to a supervisor"
    APPEAL_DECIDE = "appeal_decide", "Decided an appeal"


class AuditEvent(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveBigIntegerField()
    # PROTECT: an account that appears in the trail cannot be deleted out from under it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "sequence"], name="auditevent_tenant_sequence"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "action", "created_at"], name="auditevent_find"),
            # A member's events of the day: their exposure, on every console page.
            models.Index(fields=["tenant", "actor", "created_at"], name="auditevent_actor"),
        ]

    def __str__(self) -> str:
        return f"audit #{self.sequence} {self.action} by {self.actor_label}"


class AuditChainHead(models.Model):
    """The last link of a tenant's chain; its row lock serialises appends."""

    tenant = models.OneToOneField(
        "review.Tenant", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.sequence}"


class AuditCheckpoint(models.Model):
    """A tenant's chain head, signed with the provider's Ed25519 key (review/audit/checkpoints.py).

    The chain alone proves order and integrity to someone who trusts the database; whoever
    can write to the database could rewrite the events after any point and hash them again.
    A signature needs the key, which lives in the environment, not the database: an event
    at or before a signed checkpoint cannot be changed without the change showing. Each
    checkpoint names the one before it (``previous``: SHA-256 of its signature), so one
    removed from the middle shows too. Append-only on PostgreSQL, as the events are."""

    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    previous = models.CharField(max_length=64, blank=True)
    key_fingerprint = models.CharField(max_length=80)
    signature = models.CharField(max_length=128)  # hex of the raw 64-byte Ed25519 signature

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "sequence"], name="auditcheckpoint_tenant_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"audit checkpoint #{self.sequence} signed {self.signed_at:%Y-%m-%d %H:%M}"
