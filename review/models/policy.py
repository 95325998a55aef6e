"""Tenant policy history and retention records.

A policy change (thresholds, severity weights, second-review share, retention, webhook) is
stored as a numbered version with who, when, why and the whole policy before and after, so
it can be audited and rolled back. The webhook secret never appears in a version: only
whether it changed.

A queue item that a policy change takes out of the queue is deleted; a ``QueueWithdrawal``
keeps the fact that the conversation was once flagged (retention never purges it).

Each retention run leaves a ``RetentionRun`` per tenant: counts and ids, never text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PolicyVersion(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    # The whole policy as a plain dict (see review.services.policy.POLICY_FIELDS), with
    # ``webhook_secret_set`` in place of the secret.
    before = models.JSONField()
    after = models.JSONField()
    secret_changed = models.BooleanField(default=False)
    # Set when this version restores an earlier one.
    restores = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What applying it did to the queue: counts of items entered, left, re-prioritised and
    # deferred (claimed at the time).
    reevaluation = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="policyversion_number")
        ]

    def __str__(self) -> str:
        return f"policy v{self.number}"

    @property
    def changed_fields(self) -> list[str]:
        return [k for k in self.after if self.before.get(k) != self.after.get(k)]

    @property
    def weight_changes(self) -> list[tuple[str, float, float]]:
        """(characteristic, before, after) for each severity weight this version changed."""
        before = self.before.get("severity_weights") or {}
        after = self.after.get("severity_weights") or {}
        return [(k, before.get(k), v) for k, v in after.items() if before.get(k) != v]


class QueueWithdrawal(models.Model):
    """An open queue item removed because a policy change put its score below the threshold."""

    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    # PROTECT: a conversation that was once flagged is never purged as "unflagged".
    conversation = models.ForeignKey(
        "review.Conversation", on_delete=models.PROTECT, related_name="withdrawals"
    )
    queue_item_id = models.BigIntegerField()
    probability = models.FloatField()
    enqueued_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField()
    policy_version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"withdrawal of queue item {self.queue_item_id}"


class RetentionRun(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    ran_at = models.DateTimeField()
    retention_days = models.PositiveIntegerField()
    # Conversations whose last activity is before this were due.
    cutoff = models.DateTimeField()
    conversations_purged = models.PositiveIntegerField(default=0)
    messages_purged = models.PositiveIntegerField(default=0)
    participants_purged = models.PositiveIntegerField(default=0)
    # Ids of what was deleted (database ids and the platform's ids): no text.
    conversation_ids = models.JSONField(default=list, blank=True)
    conversation_external_ids = models.JSONField(default=list, blank=True)
    participant_ids = models.JSONField(default=list, blank=True)
    # Due by age but kept because a case holds them.
    held_by_case = models.PositiveIntegerField(default=0)
    # More were due than one run purges; the next run continues.
    more_due = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-ran_at"], name="retentionrun_recent")]

    def __str__(self) -> str:
        return f"retention run {self.pk} ({self.conversations_purged} purged)"
