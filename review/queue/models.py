"""The moderation queue: one item per flagged conversation, and the folded counts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from review.intake.models import Assessment, Conversation
from review.tenancy.models import Tenant
from scoring import characteristics


class QueueStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    CLAIMED = "claimed", "Claimed"
    DECIDED = "decided", "Decided"


class QueueItem(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="queue_items")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="queue_items"
    )
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=QueueStatus.choices, default=QueueStatus.WAITING
    )
    priority = models.FloatField()
    # The probability of the assessment above, copied so score-band filters and counts need
    # no join.
    probability = models.FloatField(default=0.0)
    # priority - AGE_WEIGHT x hours since the epoch at enqueue: ordering by it equals
    # ordering by priority + AGE_WEIGHT x hours waiting, but it is a stored column an index
    # can serve (see review.services.queue).
    rank = models.FloatField(default=0.0)
    urgent = models.BooleanField(default=False)
    # ",secrecy_request,media_request,": the highlighted characteristics, so the queue can be
    # filtered by one with a plain LIKE on any database.
    characteristics = models.CharField(max_length=400, blank=True)
    # The same set as bits (each characteristic's permanent ``bit``): the queue page
    # counts items per characteristic with cheap bit tests in one pass.
    characteristic_bits = models.IntegerField(default=0)
    enqueued_at = models.DateTimeField()
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # A policy change came while the item was claimed: it is re-evaluated when released.
    policy_pending = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one open item per conversation: a rescore updates it, never duplicates it.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=~Q(status="decided"),
                name="queueitem_one_open_per_conversation",
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "status", "-urgent", "-rank"],
                name="queueitem_next",
            ),
            models.Index(
                fields=["tenant", "-urgent", "-rank"],
                name="queueitem_open",
                condition=Q(status__in=["waiting", "claimed"]),
            ),
            # One per characteristic, holding only the open items that have it: filtering
            # the queue by a rare characteristic reads its few items in queue order instead
            # of walking the whole queue to find them. The condition is the selector's filter
            # (``characteristics__contains``), so the database can match the two.
            *(
                models.Index(
                    fields=["tenant", "-urgent", "-rank"],
                    name=f"qi_{key}",
                    condition=Q(status__in=["waiting", "claimed"])
                    & Q(characteristics__contains=f",{key},"),
                )
                for key in characteristics.KEYS
            ),
        ]

    def __str__(self) -> str:
        return f"queue item {self.pk} ({self.status})"

    @property
    def characteristic_keys(self) -> list[str]:
        """The highlighted characteristics, most severe first (as ``characteristics``)."""
        return [key for key in self.characteristics.split(",") if key]


class QueueSkip(models.Model):
    """A moderator skipped an item: until ``until`` (one lease period after the skip) it
    goes to the back of her line, behind every item she has not skipped. Others are not
    affected; nor is she once it runs out. A row per (item, moderator); a later skip moves
    ``until`` on. Expired rows are cleared when she next skips."""

    item = models.ForeignKey(QueueItem, on_delete=models.CASCADE, related_name="skips")
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "moderator"], name="queueskip_one_per_member")
        ]
        indexes = [models.Index(fields=["moderator", "until"], name="queueskip_live")]

    def __str__(self) -> str:
        return f"item {self.item_id} skipped by {self.moderator_id} until {self.until}"


class QueueCount(models.Model):
    """How many open queue items a tenant has per (status, characteristic bits, score band),
    kept as signed deltas that database triggers on review_queueitem append: every insert,
    update or delete of an item, whoever makes it (a service, a bulk update, a cascade),
    writes here in the same transaction. The queue page sums a handful of rows instead of
    counting every open item. Appending, never updating, means concurrent claims contend
    for no counter row; ``queue_counts_compact`` folds the deltas into one row per group.
    Migration 0018 installs the triggers; the score bands in it are ``SCORE_BANDS``."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=QueueStatus.choices)
    characteristic_bits = models.IntegerField()
    band = models.CharField(max_length=10)
    n = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.n:+d} {self.status} items, bits {self.characteristic_bits}, {self.band}"
