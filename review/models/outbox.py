"""The outbox: Celery tasks a transaction owes the broker, kept as rows until the broker has
them (``review.services.outbox``).

A task is written here in the same transaction as the change that calls for it, so neither
exists without the other: if the broker is down when the request commits, the row waits for
the sweep instead of the request failing after its data is stored. Rows hold a task name and
ids, never message text.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    task = models.CharField(max_length=200, help_text="the Celery task's registered name")
    args = models.JSONField(default=list, help_text="its positional arguments: ids only")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"outbox {self.pk} ({self.task})"
