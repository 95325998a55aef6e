"""A challenger training run an admin asked for from the model versions page.

One row per request, so the page can show its state (and a worker restart cannot lose it),
and so "one run at a time per tenant" is a database constraint rather than a hope: at most
one run of a tenant is queued or training. Rows hold ids, versions, counts and the admin's
reason: never message text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
