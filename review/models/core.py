"""Core of the review domain: tenants, their members and API keys, the conversations platforms send,
the scores those get, and the moderation queue.

Every row belongs to exactly one tenant, directly or through its conversation; reads go
through ``review.selectors``, which always take the tenant.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

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


class ConversationStatus(models.TextChoices):
    PENDING = "pending", "Awaiting score"
    SCORED = "scored", "Scored, below threshold"
    FLAGGED = "flagged", "Flagged for review"
    REVIEWED = "reviewed", "Reviewed"


class Conversation(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="conversations")
    external_id = models.CharField(max_length=255)
    platform = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=ConversationStatus.choices, default=ConversationStatus.PENDING
    )
    participants = models.ManyToManyField("Participant", related_name="conversations")
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when content changed and a score is owed; cleared by the scoring task only if it is
    # still the value the task started from, so messages arriving mid-score are never missed.
    score_requested_at = models.DateTimeField(null=True, blank=True)
    # When a scoring task was last sent for it; the sweep re-sends only long-silent requests.
    score_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="conversation_tenant_external_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["score_requested_at"],
                name="conversation_score_owed",
                condition=Q(score_requested_at__isnull=False),
            ),
            models.Index(fields=["tenant", "status"], name="conversation_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.external_id}"


class Participant(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="participants")
    external_id = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    declared_age = models.PositiveSmallIntegerField(null=True, blank=True)
    account_created_at = models.DateTimeField(null=True, blank=True)
    # What else the platform knows about the account, as it sent it; an escalation case is
    # prefilled from these (NCMEC's personOrUserReported and victim).
    screen_name = models.CharField(max_length=255, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    # [{"ip": "203.0.113.7", "at": "2026-11-01T18:00:00+01:00", "event": "login"}, ...]
    ip_events = models.JSONField(default=list, blank=True)
    device_ids = models.JSONField(default=list, blank=True)
    # {"country": "US", "region": "CA", "city": "..."}: the platform's estimate.
    estimated_location = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="participant_tenant_external_unique"
            )
        ]

    def __str__(self) -> str:
        return f"participant {self.external_id}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    external_id = models.CharField(max_length=255)
    sender = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="messages")
    sent_at = models.DateTimeField()  # stored in UTC
    # The sender's original offset from UTC in minutes, as the platform sent it: the law asks
    # for the time zone (18 U.S.C. 2258A(b)(2)) and moderators read local time of day.
    utc_offset_minutes = models.SmallIntegerField()
    text = models.TextField()
    position = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Message-level result, cached so a rescore after new messages only scores the new ones.
    score = models.JSONField(null=True, blank=True)
    scored_by = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "external_id"], name="message_conversation_external_unique"
            ),
            models.UniqueConstraint(
                fields=["conversation", "position"], name="message_conversation_position_unique"
            ),
        ]
        ordering = ["position"]

    def __str__(self) -> str:
        return f"message {self.external_id}"


class Assessment(models.Model):
    """One scoring of one version of a conversation's content. Never updated: a rescore adds a
    new row, so a moderator can see how the score moved as messages arrived."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="assessments"
    )
    model_version = models.CharField(max_length=64)
    probability = models.FloatField()
    characteristic_scores = models.JSONField(default=dict)
    highlights = models.JSONField(default=list)
    factors = models.JSONField(default=list)
    suspect_scores = models.JSONField(default=dict)
    message_count = models.PositiveIntegerField()
    content_fingerprint = models.CharField(max_length=64)
    scored_at = models.DateTimeField()

    class Meta:
        get_latest_by = "scored_at"
        indexes = [models.Index(fields=["conversation", "-scored_at"], name="assessment_latest")]

    def __str__(self) -> str:
        return f"assessment {self.probability:.2f} ({self.model_version})"

    @property
    def flagged_characteristics(self) -> list[str]:
        """Characteristics highlighted anywhere in the conversation, most severe first."""
        return sorted(
            {h["characteristic"] for h in self.highlights},
            key=lambda k: (-characteristics.get(k).severity, k),
        )


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
