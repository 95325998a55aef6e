"""Policy: the tenant policy's versions, queue withdrawals, retention runs and training runs."""

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
    # The whole policy as a plain dict (see review.policy.services.POLICY_FIELDS), with
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


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    TRAINING = "training", "Training"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


RUNNING_STATUSES = (TrainingStatus.QUEUED, TrainingStatus.TRAINING)


class TrainingRun(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=16, choices=TrainingStatus.choices, default=TrainingStatus.QUEUED
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Failed: why, in words an admin can act on (e.g. how many more decisions are needed).
    error = models.TextField(blank=True)
    # Done: what was compared and what happened (versions, not foreign keys, as the audit
    # trail records them; the comparison is the challenger's metrics["comparison"]).
    champion_version = models.CharField(max_length=64, blank=True)
    challenger_version = models.CharField(max_length=64, blank=True)
    comparison = models.JSONField(default=dict, blank=True)
    promoted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status__in=["queued", "training"]),
                name="trainingrun_one_running_per_tenant",
            )
        ]
        indexes = [models.Index(fields=["tenant", "-requested_at"], name="trainingrun_recent")]

    def __str__(self) -> str:
        return f"training run {self.pk} ({self.status})"

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATUSES
