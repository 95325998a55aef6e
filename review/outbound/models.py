"""What leaves Artemis: the outbox of tasks owed to the broker, and webhook deliveries to a
tenant's platform.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    task = models.CharField(max_length=200, help_text="the Celery task's registered name")
    args = models.JSONField(default=list, help_text="its positional arguments: ids only")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"outbox {self.pk} ({self.task})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed after all retries"
    SKIPPED = "skipped", "Skipped: no webhook URL"


class WebhookDelivery(models.Model):
    tenant = models.ForeignKey("review.Tenant", on_delete=models.PROTECT, related_name="+")
    # What the platform is told about: a decision's account action, or an appeal's outcome.
    decision = models.OneToOneField(
        "review.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="webhook"
    )
    appeal = models.OneToOneField(
        "review.Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="webhook"
    )
    url = models.URLField(blank=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a worker is making an attempt, so a second copy of the task (the broker may
    # deliver one twice) waits instead of posting the same delivery at the same time.
    sending_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__isnull=False, appeal__isnull=True)
                | Q(decision__isnull=True, appeal__isnull=False),
                name="webhook_about_one_thing",
            )
        ]

    def __str__(self) -> str:
        return f"webhook {self.pk} ({self.status})"
